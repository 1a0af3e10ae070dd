import { connect } from 'node:net';

/**
 * The status of a request sent over a raw socket with the header lines as given, e.g. two
 * Authorization fields, which fetch would join into one and Node's client would refuse.
 */
export function rawHttpStatus(
  baseUrl: string,
  request: { method?: string; path: string; headerLines: string[]; body?: string },
): Promise<number> {
  const { hostname, port } = new URL(baseUrl);
  const body = request.body ?? '';
  const lines = [`${request.method ?? 'GET'} ${request.path} HTTP/1.1`, `Host: ${hostname}`];
  lines.push(...request.headerLines, 'Connection: close');
  if (body) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return new Promise((resolve, reject) => {
    let response = '';
    const socket = connect(Number(port), hostname, () =>
      socket.write(`${lines.join('\r\n')}\r\n\r\n${body}`),
    );
    socket.on('data', (chunk) => (response += chunk.toString()));
    socket.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1])));
    socket.on('error', reject);
  });
}
