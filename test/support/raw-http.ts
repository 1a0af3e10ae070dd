import { connect } from 'node:net';

/**
 * The status of a GET sent over a raw socket with the header lines as given, e.g. two
 * Authorization fields, which fetch would join into one and Node's client would refuse.
 */
export function rawGetStatus(
  baseUrl: string,
  path: string,
  headerLines: string[],
): Promise<number> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    let response = '';
    const socket = connect(Number(port), hostname, () =>
      socket.write(
        [
          `GET ${path} HTTP/1.1`,
          `Host: ${hostname}`,
          ...headerLines,
          'Connection: close',
          '',
          '',
        ].join('\r\n'),
      ),
    );
    socket.on('data', (chunk) => (response += chunk.toString()));
    socket.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1])));
    socket.on('error', reject);
  });
}
