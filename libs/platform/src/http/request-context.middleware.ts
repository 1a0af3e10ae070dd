import { Injectable, NestMiddleware } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { runWithRequestContext } from '../context/request-context';
import { requestIdFor } from '../logging/logging.options';

/** Runs each HTTP request inside its request context, so logs and outgoing calls carry its id. */
@Injectable()
export class RequestContextMiddleware implements NestMiddleware {
  use(req: IncomingMessage, res: ServerResponse, next: () => void) {
    runWithRequestContext({ requestId: requestIdFor(req, res) }, next);
  }
}
