// HTTPS on a service's port (HTTP_TLS_*), against a real service built by createServiceApp:
// TLS with its certificate, no plain HTTP on that port, and the mechanism the resource servers
// use to trust the services' CA for their calls to auth (NODE_EXTRA_CA_CERTS, read by Node at
// start, so checked in a child process).
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { execFile } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import {
  createProbeServiceApp,
  PublicProbeController,
} from '../../../../test/support/probe-service';
import { createTestDatabase, startTestNats } from '../../../../test/support/test-infra';
import { createTestPki, type TestCa } from '../../../../test/support/test-pki';
import { freePort } from '../../../../scripts/lib/infra';
import { baseConfigSchema } from '../config/base-config.schema';
import { loadConfig } from '../config/load-config';
import { listenServiceApp } from './service-app';
import { readFileSync } from 'node:fs';

describe('HTTPS on the service port', () => {
  const pki = createTestPki('https');
  let ca: TestCa;
  let app: NestFastifyApplication;
  let url: string;
  let port: number;
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    ca = pki.ca('services');
    const { certFile, keyFile } = ca.issue('auth', 'DNS:localhost,DNS:auth');
    const [database, nats] = await Promise.all([createTestDatabase('https'), startTestNats()]);
    cleanups.push(
      () => database.drop(),
      () => nats.stop(),
    );
    port = await freePort();
    const config = loadConfig(baseConfigSchema, {
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: database.url,
      NATS_URL: nats.url,
      LOG_LEVEL: 'silent',
      HTTP_TLS_CERT_FILE: certFile,
      HTTP_TLS_KEY_FILE: keyFile,
    });
    app = await createProbeServiceApp(config, [PublicProbeController]);
    cleanups.unshift(() => app.close());
    url = await listenServiceApp(app, config);
    baseConfig = config;
  });
  let baseConfig: ReturnType<typeof loadConfig<typeof baseConfigSchema>>;

  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
    pki.remove();
  });

  it('serves HTTPS with its certificate, to a client that trusts the CA', async () => {
    expect(url).toBe(`https://127.0.0.1:${port}`);
    const status = await new Promise<number | undefined>((resolve, reject) =>
      httpsRequest(
        { host: 'localhost', port, path: '/probe', ca: readFileSync(ca.caFile) },
        (response) => resolve(response.statusCode),
      )
        .on('error', reject)
        .end(),
    );
    expect(status).toBe(200);
  });

  it('exports when its HTTPS certificate expires, which it reads at start only', async () => {
    const metrics = await new Promise<string>((resolve, reject) =>
      httpsRequest(
        { host: 'localhost', port, path: '/metrics', ca: readFileSync(ca.caFile) },
        (response) => {
          let body = '';
          response.on('data', (chunk: Buffer) => (body += chunk.toString()));
          response.on('end', () => resolve(body));
        },
      )
        .on('error', reject)
        .end(),
    );
    const line = /^http_tls_certificate_expiry_timestamp_seconds\{[^}]*\} (\d+)$/m.exec(metrics);
    // The test certificate is valid for one day from its issue, a moment ago.
    expect(Math.abs(Number(line?.[1]) - (Date.now() / 1000 + 24 * 3600))).toBeLessThan(600);
  });

  it('answers no plain HTTP request on that port', async () => {
    const outcome = await new Promise<string>((resolve) =>
      httpRequest({ host: '127.0.0.1', port, path: '/probe' }, (response) =>
        resolve(`answered ${response.statusCode}`),
      )
        .on('error', (error: NodeJS.ErrnoException) => resolve(`error ${error.code}`))
        .end(),
    );
    expect(outcome).toMatch(/^error /);
  });

  /** A fetch from a new node process, as users and orders fetch auth's JWKS and tokens. */
  const fetchFromChild = (env: NodeJS.ProcessEnv) =>
    new Promise<string>((resolve) =>
      execFile(
        process.execPath,
        [
          '-e',
          `fetch('https://localhost:${port}/probe').then((r) => console.log(r.status), (e) => console.log('failed', e.cause?.code ?? e.message))`,
        ],
        { env: { PATH: process.env.PATH, ...env } },
        (_error, stdout) => resolve(stdout.trim()),
      ),
    );

  it('is fetched by a process given the CA as NODE_EXTRA_CA_CERTS, and by no other', async () => {
    await expect(fetchFromChild({ NODE_EXTRA_CA_CERTS: ca.caFile })).resolves.toBe('200');
    await expect(fetchFromChild({})).resolves.toMatch(/^failed /);
  });

  it('builds no plain HTTP service in production without HTTP_PLAINTEXT, whatever the schema let through', async () => {
    await expect(
      createProbeServiceApp({
        ...baseConfig,
        NODE_ENV: 'production',
        HTTP_TLS_CERT_FILE: undefined,
        HTTP_TLS_KEY_FILE: undefined,
        HTTP_PLAINTEXT: false,
      }),
    ).rejects.toThrow('HTTP without TLS in production needs HTTP_PLAINTEXT=true');
  });
});
