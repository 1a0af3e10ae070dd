import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { map, type Observable } from 'rxjs';
import { checksSubject, POLICY_HANDLERS } from '../decorators/policy-handlers';
import { SecurityError } from '../security.error';
import { toEdgeError } from '../transport/edge-error';
import { transportOf } from '../transport/transport-of';
import { authenticatedOf } from './principal-store';

/**
 * Runs the two-parameter `@CheckPolicies` handlers against what the handler returns (the
 * loaded object). A refusal, or nothing returned, is NOT_FOUND: the caller learns nothing
 * about an object it may not see. An array result must pass for every element.
 */
@Injectable()
export class PoliciesInterceptor implements NestInterceptor {
  constructor(private readonly reflector: Reflector) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const targets = [context.getHandler(), context.getClass()];
    const handlers = (this.reflector.getAllAndMerge(POLICY_HANDLERS, targets) ?? []).filter(
      checksSubject,
    );
    if (handlers.length === 0) return next.handle();
    return next.handle().pipe(
      map((result: unknown) => {
        const authenticated = authenticatedOf(context);
        const subjects = Array.isArray(result) ? result : [result];
        const allowed =
          authenticated !== undefined &&
          result !== null &&
          result !== undefined &&
          subjects.every((subject) =>
            handlers.every((handler) => handler(authenticated.ability(), subject)),
          );
        if (!allowed) {
          throw toEdgeError(new SecurityError('NOT_FOUND', 'not found'), transportOf(context), '');
        }
        return result;
      }),
    );
  }
}
