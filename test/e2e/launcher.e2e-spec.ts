// `npm start` as a user runs it: one command brings up PostgreSQL, NATS, migrations and the three
// services, prints "ready" once every /health/ready answers 200, and Ctrl-C leaves nothing running.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connect } from 'nats';
import { freePort } from '../../scripts/lib/infra';

const root = resolve(__dirname, '../..');

function processesMentioning(text: string): string[] {
  try {
    return execFileSync('pgrep', ['-af', text], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line.trim() && !line.includes('pgrep'));
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

async function isListening(port: number): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${port}/health/live`, { signal: AbortSignal.timeout(500) });
    return true;
  } catch {
    return false;
  }
}

describe('npm start (scripts/start.mjs)', () => {
  let dataDir: string;
  let launcher: ChildProcess;
  let output = '';
  const ports: Record<string, number> = {};

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'suite-launcher-'));
    chmodSync(dataDir, 0o755); // as root, embedded PostgreSQL runs as `postgres`
    for (const name of [
      'AUTH_PORT',
      'USERS_PORT',
      'ORDERS_PORT',
      'USERS_GRPC_PORT',
      'ORDERS_GRPC_PORT',
    ]) {
      ports[name] = await freePort();
    }
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
    };
    delete env.DATABASE_URL;
    delete env.NATS_URL;
    env.SUITE_DATA_DIR = dataDir;
    env.LOG_LEVEL = 'warn';
    launcher = spawn(process.execPath, [join(root, 'scripts/start.mjs')], { cwd: root, env });
    launcher.stdout!.on('data', (chunk) => (output += chunk));
    launcher.stderr!.on('data', (chunk) => (output += chunk));
  });

  afterAll(async () => {
    if (launcher.exitCode === null) launcher.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints every URL and "ready" within 60 s, and every service answers /health/ready with 200', async () => {
    const started = Date.now();
    while (!/\] ready in/.test(output)) {
      if (launcher.exitCode !== null) throw new Error(`launcher exited early:\n${output}`);
      if (Date.now() - started > 60_000) throw new Error(`not ready within 60 s:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    for (const name of ['AUTH_PORT', 'USERS_PORT', 'ORDERS_PORT']) {
      expect(output).toContain(`http://127.0.0.1:${ports[name]}`);
      const response = await fetch(`http://127.0.0.1:${ports[name]}/health/ready`);
      expect(response.status).toBe(200);
    }
    expect(processesMentioning(dataDir).length).toBeGreaterThanOrEqual(2); // postgres and nats-server
  }, 90_000);

  it('runs NATS with a user per service: an anonymous client or a wrong password is refused', async () => {
    const natsUrl = /\[suite\] nats +(nats:\/\/\S+)/.exec(output)?.[1];
    expect(natsUrl).toBeDefined();
    await expect(connect({ servers: natsUrl, reconnect: false })).rejects.toThrow(
      /Authorization Violation/i,
    );
    await expect(
      connect({ servers: natsUrl, user: 'auth', pass: 'not-its-password', reconnect: false }),
    ).rejects.toThrow(/Authorization Violation/i);
    // Every service is ready (previous test): each connected, consumed and published as its user.
  });

  it('stops every child on SIGINT: no service, database or broker is left running', async () => {
    expect(launcher.exitCode).toBeNull();
    const exited = new Promise<number | null>((r) => launcher.once('exit', (code) => r(code)));
    launcher.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output).toContain('[suite] stopped');
    expect(processesMentioning(dataDir)).toEqual([]);
    for (const name of ['AUTH_PORT', 'USERS_PORT', 'ORDERS_PORT']) {
      expect(await isListening(ports[name])).toBe(false);
    }
  }, 60_000);
});
