/**
 * Proves deploy/nats/permissions.conf against a real nats-server with the nats.js
 * client the services use: each service has its own credentials, publishes only its
 * own subjects, manages only its own stream and reads only the streams and subjects it
 * is meant to (SPEC §5 "The broker itself gives each service its own credentials and
 * subject permissions").
 *
 * The server is private to this file (free port, temp JetStream dir) and includes the
 * very permissions.conf that docker-compose and the k8s dev overlay use, so a grant
 * that works here works there.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import {
  AckPolicy,
  connect,
  ErrorCode,
  headers,
  type JetStreamManager,
  type NatsConnection,
} from 'nats';

const PERMISSIONS_FILE = resolve(__dirname, '../../deploy/nats/permissions.conf');
const NATS_SERVER = process.env.NATS_SERVER_BIN ?? 'nats-server';
const REQUEST_TIMEOUT_MS = 2_000;

type Service = 'auth' | 'users' | 'orders';
const SERVICES: Service[] = ['auth', 'users', 'orders'];
const STREAMS: Record<Service, { name: string; subjects: string[] }> = {
  auth: { name: 'AUTH', subjects: ['auth.>'] },
  users: { name: 'USERS', subjects: ['users.>'] },
  orders: { name: 'ORDERS', subjects: ['orders.>'] },
};

// nats-server parses a `$VAR` value as config (`1e5...` is a number), hence the letter
// prefix, as in .env.example and the dev secret generator.
const natsPassword = () => `n${randomBytes(32).toString('hex')}`;
const passwords: Record<Service, string> = {
  auth: natsPassword(),
  users: natsPassword(),
  orders: natsPassword(),
};

let server: ChildProcess | undefined;
let workDir: string;
let url: string;
const conns = new Map<Service, NatsConnection>();
const jsms = new Map<Service, JetStreamManager>();

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolvePort(port));
    });
  });
}

async function waitForPort(port: number, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    const up = await new Promise<boolean>((done) => {
      const s = new Socket();
      s.once('connect', () => {
        s.destroy();
        done(true);
      });
      s.once('error', () => {
        s.destroy();
        done(false);
      });
      s.connect(port, '127.0.0.1');
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nats-server did not listen on ${port}`);
}

function nc(service: Service): NatsConnection {
  const c = conns.get(service);
  if (!c) throw new Error(`no connection for ${service}`);
  return c;
}

function jsm(service: Service): JetStreamManager {
  const m = jsms.get(service);
  if (!m) throw new Error(`no JetStream manager for ${service}`);
  return m;
}

/** Publishes through JetStream (as the services do) and returns the PubAck. */
function publish(service: Service, subject: string) {
  const h = headers();
  const id = randomBytes(8).toString('hex');
  h.set('Nats-Msg-Id', id);
  return nc(service).jetstream().publish(subject, new TextEncoder().encode(id), {
    headers: h,
    msgID: id,
    timeout: REQUEST_TIMEOUT_MS,
  });
}

async function messageCount(stream: string): Promise<number> {
  const owner = SERVICES.find((s) => STREAMS[s].name === stream)!;
  return (await jsm(owner).streams.info(stream)).state.messages;
}

/** A denied request fails fast with PERMISSIONS_VIOLATION instead of hanging. */
async function expectDenied(p: Promise<unknown>): Promise<void> {
  await expect(p).rejects.toMatchObject({ code: ErrorCode.PermissionsViolation });
}

beforeAll(async () => {
  const version = spawnSync(NATS_SERVER, ['--version'], { encoding: 'utf8' });
  if (version.error) {
    throw new Error(
      `${NATS_SERVER} not found: install it (Debian: apt-get install nats-server) or set NATS_SERVER_BIN`,
    );
  }

  workDir = mkdtempSync(join(tmpdir(), 'nats-perms-'));
  const port = await freePort();
  // nats-server joins include paths onto the including file's folder, so the shared
  // file is referenced relative to the temp config rather than copied.
  writeFileSync(
    join(workDir, 'server.conf'),
    [
      `listen: "127.0.0.1:${port}"`,
      `jetstream { store_dir: "${join(workDir, 'js')}" }`,
      `include "${relative(workDir, PERMISSIONS_FILE)}"`,
      '',
    ].join('\n'),
  );

  server = spawn(NATS_SERVER, ['-c', join(workDir, 'server.conf')], {
    env: {
      PATH: process.env.PATH,
      NATS_AUTH_PASSWORD: passwords.auth,
      NATS_USERS_PASSWORD: passwords.users,
      NATS_ORDERS_PASSWORD: passwords.orders,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  server.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<never>((_, reject) =>
    server!.once('exit', (code) => reject(new Error(`nats-server exited ${code}:\n${log}`))),
  );
  await Promise.race([waitForPort(port, Date.now() + 10_000), exited]);
  exited.catch(() => undefined);
  url = `nats://127.0.0.1:${port}`;

  for (const service of SERVICES) {
    const c = await connect({
      servers: url,
      user: service,
      pass: passwords[service],
      name: service,
      inboxPrefix: `_INBOX_${service}`,
    });
    conns.set(service, c);
    jsms.set(service, await c.jetstreamManager({ timeout: REQUEST_TIMEOUT_MS }));
  }
  // Each service creates its own stream at start (contract); doing it here as each
  // owner also proves the CREATE grant.
  for (const service of SERVICES) {
    await jsm(service).streams.add({ ...STREAMS[service], duplicate_window: 120_000_000_000 });
  }
}, 30_000);

afterAll(async () => {
  for (const c of conns.values()) await c.close().catch(() => undefined);
  if (server && server.exitCode === null) {
    const gone = new Promise((r) => server!.once('exit', r));
    server.kill('SIGTERM');
    await gone;
  }
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('NATS credentials', () => {
  it('refuses a service user with the wrong password', async () => {
    await expect(
      connect({ servers: url, user: 'users', pass: passwords.orders, reconnect: false }),
    ).rejects.toMatchObject({ code: ErrorCode.AuthorizationViolation });
  });

  it('refuses a connection without credentials', async () => {
    await expect(connect({ servers: url, reconnect: false })).rejects.toMatchObject({
      code: ErrorCode.AuthorizationViolation,
    });
  });
});

describe('publishing', () => {
  it.each([
    ['auth', 'auth.identity.registered', 'AUTH'],
    ['auth', 'auth.identity.updated', 'AUTH'],
    ['auth', 'auth.revocations', 'AUTH'],
    ['auth', 'auth.revocations.stored', 'AUTH'],
    ['users', 'users.deleted', 'USERS'],
    ['orders', 'orders.created', 'ORDERS'],
    ['orders', 'orders.cancelled', 'ORDERS'],
  ] as const)('lets %s publish %s into its own stream', async (service, subject, stream) => {
    const ack = await publish(service, subject);
    expect(ack.stream).toBe(stream);
  });

  it.each([
    ['users', 'orders.created'],
    ['users', 'auth.revocations'],
    ['users', 'auth.revocations.stored'],
    ['users', 'auth.identity.updated'],
    ['orders', 'users.deleted'],
    ['orders', 'auth.revocations'],
    ['orders', 'auth.revocations.stored'],
    ['auth', 'users.deleted'],
    ['auth', 'orders.cancelled'],
    ['users', 'users.created'],
    ['orders', 'orders.shipped'],
  ] as const)('forbids %s to publish %s', async (service, subject) => {
    const stream = STREAMS[SERVICES.find((s) => subject.startsWith(`${s}.`))!].name;
    const before = await messageCount(stream);
    await expectDenied(publish(service, subject));
    // A plain (fire-and-forget) publish is dropped by the broker too.
    nc(service).publish(subject, new TextEncoder().encode('forged'));
    await nc(service).flush();
    expect(await messageCount(stream)).toBe(before);
  });
});

describe('stream management', () => {
  it.each([
    ['users', 'ORDERS', 'orders.>'],
    ['orders', 'AUTH', 'auth.>'],
    ['auth', 'USERS', 'users.>'],
  ] as const)('forbids %s to create or update the %s stream', async (service, name, subject) => {
    await expectDenied(jsm(service).streams.add({ name, subjects: [subject] }));
    await expectDenied(jsm(service).streams.update(name, { subjects: [subject, 'x.>'] }));
  });

  it('lets each service update its own stream', async () => {
    for (const service of SERVICES) {
      const info = await jsm(service).streams.update(STREAMS[service].name, {
        description: `${service} events`,
      });
      expect(info.config.description).toBe(`${service} events`);
    }
  });

  it.each(SERVICES)('forbids %s to delete or purge a stream', async (service) => {
    await expectDenied(jsm(service).streams.purge(STREAMS[service].name));
    await expectDenied(jsm(service).streams.delete(STREAMS[service].name));
  });
});

describe('durable consumers', () => {
  /** Idempotent: the same config every time, as a service does at each start. */
  function ensureDurable(service: Service, stream: string, durable: string, filter: string) {
    return jsm(service).consumers.add(stream, {
      durable_name: durable,
      filter_subject: filter,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: 'new' as never,
    });
  }

  async function consumeOne(
    service: Service,
    stream: string,
    durable: string,
    filter: string,
    publisher: Service,
    subject: string,
  ): Promise<void> {
    await ensureDurable(service, stream, durable, filter);
    const ack = await publish(publisher, subject);
    const consumer = await nc(service).jetstream().consumers.get(stream, durable);
    const msg = await consumer.next({ expires: 5_000 });
    expect(msg?.subject).toBe(subject);
    expect(msg?.seq).toBe(ack.seq);
    await msg!.ackAck({ timeout: REQUEST_TIMEOUT_MS });
  }

  it('lets users consume auth.identity.> through users-identity on AUTH', async () => {
    await consumeOne('users', 'AUTH', 'users-identity', 'auth.identity.>', 'auth', 'auth.identity.updated');
  });

  it('lets auth consume users.deleted through auth-users-deleted on USERS', async () => {
    await consumeOne('auth', 'USERS', 'auth-users-deleted', 'users.deleted', 'users', 'users.deleted');
  });

  it('lets orders consume users.deleted through orders-users-deleted on USERS', async () => {
    await consumeOne('orders', 'USERS', 'orders-users-deleted', 'users.deleted', 'users', 'users.deleted');
  });

  it.each([
    ['orders', 'AUTH', 'orders-identity', 'auth.identity.>'],
    ['auth', 'USERS', 'auth-all', 'users.>'],
    ['users', 'ORDERS', 'users-orders', 'orders.created'],
    ['orders', 'AUTH', 'users-identity', 'auth.identity.>'],
    ['users', 'AUTH', 'users-identity', 'auth.>'],
    ['orders', 'USERS', 'orders-users-deleted', 'users.>'],
  ] as const)('forbids %s to create a consumer on %s named %s with filter %s', async (service, stream, durable, filter) => {
    await expectDenied(
      jsm(service).consumers.add(stream, {
        durable_name: durable,
        filter_subject: filter,
        ack_policy: AckPolicy.Explicit,
      }),
    );
  });

  it('forbids a consumer without a filter (the whole stream)', async () => {
    await expectDenied(
      jsm('orders').consumers.add('AUTH', { durable_name: 'orders-all', ack_policy: AckPolicy.Explicit }),
    );
    await expectDenied(jsm('orders').consumers.add('AUTH', { ack_policy: AckPolicy.None }));
  });

  it.each(['auth', 'orders'] as const)(
    "forbids %s to re-point users' users-identity durable at auth.revocations",
    async (service) => {
      // Its grant for ephemeral revocation consumers (`CREATE.AUTH.*.auth.revocations`) matches
      // any consumer name: the server would take this as an update of users' durable, and users
      // would skip identity events for good.
      await ensureDurable('users', 'AUTH', 'users-identity', 'auth.identity.>');
      await expectDenied(
        jsm(service).consumers.add('AUTH', {
          durable_name: 'users-identity',
          filter_subject: 'auth.revocations',
          ack_policy: AckPolicy.Explicit,
          max_deliver: 1,
        }),
      );
      const info = await jsm('users').consumers.info('AUTH', 'users-identity');
      expect(info.config.filter_subject).toBe('auth.identity.>');
    },
  );

  it.each(['auth', 'orders'] as const)("forbids %s to pull from users' users-identity durable", async (service) => {
    await ensureDurable('users', 'AUTH', 'users-identity', 'auth.identity.>');
    const request = nc(service).request(
      '$JS.API.CONSUMER.MSG.NEXT.AUTH.users-identity',
      new TextEncoder().encode(JSON.stringify({ batch: 1, no_wait: true })),
      { timeout: REQUEST_TIMEOUT_MS },
    );
    await expectDenied(request);
  });

  it.each([
    ['orders', 'USERS', 'auth-users-deleted', 'auth'],
    ['auth', 'USERS', 'orders-users-deleted', 'orders'],
  ] as const)("forbids %s to pull from another service's durable %s/%s", async (service, stream, durable, owner) => {
    await ensureDurable(owner, stream, durable, 'users.deleted');
    const request = nc(service).request(
      `$JS.API.CONSUMER.MSG.NEXT.${stream}.${durable}`,
      new TextEncoder().encode(JSON.stringify({ batch: 1, no_wait: true })),
      { timeout: REQUEST_TIMEOUT_MS },
    );
    await expectDenied(request);
  });
});

describe('revocation broadcast (SPEC §3)', () => {
  it.each(
    SERVICES.flatMap((service) =>
      ['auth.revocations', 'auth.revocations.stored'].map((subject) => [service, subject]),
    ),
  )('lets every %s replica read %s through an ordered consumer', async (service, subject) => {
    const ack = await publish('auth', subject);
    // Start at that message so the test needs no sleep and reads no other test's data.
    const consumer = await nc(service as Service)
      .jetstream()
      .consumers.get('AUTH', { filterSubjects: subject, opt_start_seq: ack.seq });
    const msg = await consumer.next({ expires: 5_000 });
    expect(msg?.subject).toBe(subject);
    expect(msg?.seq).toBe(ack.seq);
  });

  it('forbids an ephemeral consumer on AUTH with any other filter', async () => {
    for (const service of SERVICES) {
      await expectDenied(
        jsm(service).consumers.add('AUTH', {
          name: `eph${randomBytes(4).toString('hex')}`,
          filter_subject: 'auth.identity.registered',
          ack_policy: AckPolicy.None,
        }),
      );
    }
  });
});

describe('core subscriptions', () => {
  it.each([
    ['orders', 'users.deleted'],
    ['orders', 'auth.identity.>'],
    ['users', '>'],
    ['auth', '$JS.API.>'],
    ['users', '_INBOX_other.>'],
    ['users', '_INBOX_orders.>'],
    ['orders', '_INBOX.>'],
  ] as const)('forbids %s to subscribe to %s', async (service, subject) => {
    const sub = nc(service).subscribe(subject);
    // The broker answers a forbidden SUB with a permissions error, which nats.js
    // delivers by ending that subscription's iterator with the error.
    const drained = (async () => {
      for await (const m of sub) throw new Error(`received ${m.subject}`);
    })();
    // Attached at once: the error may arrive before any later await returns.
    await expect(drained).rejects.toMatchObject({ code: ErrorCode.PermissionsViolation });
  });
});
