/**
 * Security properties of the deployment files, checked statically (no Docker, no
 * cluster): what a reviewer would otherwise have to re-check by eye on every change.
 *
 * Kubernetes objects are read from `kubectl kustomize` output for every overlay when
 * kubectl is installed (so patches and generators are taken into account), otherwise
 * from the YAML files of k8s/ directly.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { randomBytes } from 'node:crypto';
import YAML from 'yaml';
import { loadAuthConfig } from '../../apps/auth/src/auth.config';
import { loadOrdersConfig } from '../../apps/orders/src/orders.config';
import { loadUsersConfig } from '../../apps/users/src/users.config';

const ROOT = join(__dirname, '..', '..');
const SERVICES = ['auth', 'users', 'orders'] as const;
const HTTP_PORT = { auth: 3001, users: 3002, orders: 3003 } as const;
const GRPC = { users: { port: 50052, onlyFrom: 'orders' }, orders: { port: 50053, onlyFrom: 'users' } } as const;
/** Names whose value is a credential, wherever they appear. */
const SECRET_NAME = /PASSWORD|SECRET|KEY_ENCRYPTION_KEY|DATABASE_URL|REDIS_URL|TOKEN/;

/* eslint-disable @typescript-eslint/no-explicit-any */
type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; spec?: any; data?: any; stringData?: any };
type Selector = { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] };

const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

/** Each service's own configuration loader: what it refuses, it refuses at start. */
const LOAD_CONFIG = { auth: loadAuthConfig, users: loadUsersConfig, orders: loadOrdersConfig };
/** A value a secret of this name could have (the loaders check lengths and formats). */
const DUMMY_SETTINGS: Record<string, string> = {
  DATABASE_URL: 'postgres://service:secret@postgres:5432/service',
  REDIS_URL: 'redis://:secret@redis:6379/0',
  ADMIN_EMAIL: 'admin@example.com',
};
const dummySecret = (name: string) =>
  DUMMY_SETTINGS[name] ??
  (name.startsWith('KEY_ENCRYPTION_KEY')
    ? randomBytes(32).toString('base64')
    : `n${randomBytes(32).toString('hex')}`);

function filesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const p = join(dir, name);
    return statSync(join(ROOT, p)).isDirectory() ? filesUnder(p) : [p];
  });
}

function parseAll(src: string): K8sObject[] {
  return YAML.parseAllDocuments(src)
    .map((d) => d.toJS() as K8sObject)
    .filter(Boolean);
}

/** Rendered objects per overlay (or per raw file set when kubectl is absent). */
function loadManifests(): Map<string, K8sObject[]> {
  const result = new Map<string, K8sObject[]>();
  const overlays = readdirSync(join(ROOT, 'k8s/overlays'));
  const haveKubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
  if (haveKubectl) {
    // Overlays read git-ignored secrets/*.env; render a copy that uses the examples.
    const work = mkdtempSync(join(tmpdir(), 'deploy-security-'));
    try {
      cpSync(join(ROOT, 'k8s'), join(work, 'k8s'), { recursive: true });
      for (const overlay of overlays) {
        const secrets = join(work, 'k8s/overlays', overlay, 'secrets');
        if (!existsSync(secrets)) continue;
        for (const f of readdirSync(secrets).filter((n) => n.endsWith('.env.example'))) {
          cpSync(join(secrets, f), join(secrets, f.replace(/\.example$/, '')));
        }
      }
      for (const overlay of overlays) {
        const out = execFileSync('kubectl', ['kustomize', join(work, 'k8s/overlays', overlay)], { encoding: 'utf8' });
        result.set(overlay, parseAll(out));
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  } else {
    const yamlIn = (dir: string) =>
      filesUnder(dir)
        .filter((f) => f.endsWith('.yaml') && !f.endsWith('kustomization.yaml'))
        .flatMap((f) => parseAll(read(f)));
    const base = yamlIn('k8s/base');
    for (const overlay of overlays) result.set(overlay, [...base, ...yamlIn(`k8s/overlays/${overlay}`)]);
  }
  return result;
}

function selects(selector: Selector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = e.key in labels;
    if (e.operator === 'In' && !(has && e.values!.includes(labels[e.key]))) return false;
    if (e.operator === 'NotIn' && has && e.values!.includes(labels[e.key])) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

/** Every ingress peer that may reach `port` on pods labelled `labels`. */
function ingressPeers(objects: K8sObject[], labels: Record<string, string>, port: number): any[] {
  return objects
    .filter((o) => o.kind === 'NetworkPolicy' && selects(o.spec.podSelector, labels))
    .flatMap((np) => np.spec.ingress ?? [])
    .filter((rule: any) => !rule.ports || rule.ports.some((p: any) => p.port === port || p.port === undefined))
    .flatMap((rule: any) => rule.from ?? [{ everything: true }]);
}

const manifests = loadManifests();
const overlays = [...manifests.keys()];
const workloads = (objs: K8sObject[]) => objs.filter((o) => ['Deployment', 'StatefulSet'].includes(o.kind));
const appDeployment = (objs: K8sObject[], app: string) =>
  objs.find((o) => o.kind === 'Deployment' && o.metadata.name === app)!;

describe.each(overlays)('k8s overlay %s', (overlay) => {
  const objects = manifests.get(overlay)!;

  it('deploys the three services', () => {
    for (const app of SERVICES) expect(appDeployment(objects, app)).toBeDefined();
  });

  it.each(SERVICES)('gives %s every setting its production configuration requires', (app) => {
    const container = appDeployment(objects, app).spec.template.spec.containers.find(
      (c: any) => c.name === app,
    );
    const env: Record<string, string> = {};
    for (const source of container.envFrom ?? []) {
      const name = source.configMapRef?.name;
      const map = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name);
      Object.assign(env, map?.data ?? {});
    }
    for (const variable of container.env ?? []) {
      const secret = variable.valueFrom?.secretKeyRef;
      if (secret) {
        const rendered = objects.find((o) => o.kind === 'Secret' && o.metadata.name === secret.name);
        // Rendered from the *.env.example files: the key must be there; its value is a placeholder.
        if (rendered) expect({ [secret.name]: Object.keys(rendered.data ?? rendered.stringData ?? {}) }).toEqual({ [secret.name]: expect.arrayContaining([secret.key]) });
        if (!secret.optional) env[variable.name] = dummySecret(variable.name);
      } else if (variable.value !== undefined) {
        env[variable.name] = String(variable.value);
      }
    }
    expect(() => LOAD_CONFIG[app](env)).not.toThrow();
  });

  it('lets every service that is given REDIS_URL reach Redis', () => {
    const redisPods = objects.filter((o) => o.kind === 'StatefulSet' || o.kind === 'Deployment').filter((o) => o.metadata.name === 'redis');
    for (const app of SERVICES) {
      const container = appDeployment(objects, app).spec.template.spec.containers.find((c: any) => c.name === app);
      if (!(container.env ?? []).some((v: any) => v.name === 'REDIS_URL')) continue;
      const labels = appDeployment(objects, app).spec.template.metadata.labels;
      const egress = objects
        .filter((o) => o.kind === 'NetworkPolicy' && selects(o.spec.podSelector, labels))
        .flatMap((np) => np.spec.egress ?? [])
        .filter((rule: any) => (rule.ports ?? []).some((p: any) => [6379, 6380].includes(p.port)));
      expect({ app, egressToRedis: egress.length > 0 }).toEqual({ app, egressToRedis: true });
      // In-cluster Redis (dev): its own ingress policy must admit the service too.
      for (const redis of redisPods) {
        const peers = ingressPeers(objects, redis.spec.template.metadata.labels, 6379);
        expect({ app, admitted: peers.some((peer: any) => selects(peer.podSelector, labels)) }).toEqual({ app, admitted: true });
      }
    }
  });

  it.each(workloads(objects).map((w) => [w.metadata.name, w] as const))(
    'runs %s as non-root with a read-only root filesystem, no privilege escalation, no capabilities and seccomp RuntimeDefault',
    (_name, w) => {
      const pod = w.spec.template.spec;
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
      expect(pod.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
      expect(pod.automountServiceAccountToken).toBe(false);
      for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
        expect(c.securityContext).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
        expect(c.securityContext.privileged).not.toBe(true);
        for (const kind of ['requests', 'limits']) {
          expect(c.resources?.[kind]).toEqual(expect.objectContaining({ cpu: expect.anything(), memory: expect.anything() }));
        }
      }
    },
  );

  it.each(workloads(objects).map((w) => [w.metadata.name, w] as const))('pins every image of %s to a tag other than latest', (_n, w) => {
    const pod = w.spec.template.spec;
    for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
      expect(c.image).toMatch(/^[^@]+:[\w][\w.-]*$|@sha256:[0-9a-f]{64}$/);
      expect(c.image).not.toMatch(/:latest$/);
    }
  });

  it.each(SERVICES)('probes %s on /health/live and /health/ready and gives it a writable /tmp only', (app) => {
    const pod = appDeployment(objects, app).spec.template.spec;
    const main = pod.containers.find((c: any) => c.name === app);
    expect(main.livenessProbe.httpGet).toMatchObject({ path: '/health/live', port: 'http' });
    expect(main.readinessProbe.httpGet).toMatchObject({ path: '/health/ready', port: 'http' });
    expect(main.ports.find((p: any) => p.name === 'http').containerPort).toBe(HTTP_PORT[app]);
    const tmp = main.volumeMounts.find((m: any) => m.mountPath === '/tmp');
    expect(pod.volumes.find((v: any) => v.name === tmp.name).emptyDir).toBeDefined();
    // Anything else is mounted read-only (the datastore CAs).
    for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
      const writable = (c.volumeMounts ?? []).filter((m: any) => m.readOnly !== true).map((m: any) => m.mountPath);
      expect({ container: c.name, writable }).toEqual({ container: c.name, writable: ['/tmp'] });
    }
  });

  it.each(SERVICES)('runs the %s migrations in an init container', (app) => {
    const [init] = appDeployment(objects, app).spec.template.spec.initContainers;
    expect(init.command).toEqual(['node', `dist/apps/${app}/src/migrate.js`]);
  });

  it.each(SERVICES)('gives %s its own NATS user and its own Secret', (app) => {
    const main = appDeployment(objects, app).spec.template.spec.containers[0];
    const env = Object.fromEntries(main.env.map((e: any) => [e.name, e]));
    expect(env.NATS_USER.value).toBe(app);
    expect(env.NATS_PASSWORD.valueFrom.secretKeyRef.name).toMatch(new RegExp(`^${app}-secrets(-[a-z0-9]+)?$`));
    for (const e of main.env) {
      if (SECRET_NAME.test(e.name)) expect(e.value).toBeUndefined();
    }
  });

  it('has PodDisruptionBudgets and HorizontalPodAutoscalers for every service', () => {
    for (const app of SERVICES) {
      const pdb = objects.find((o) => o.kind === 'PodDisruptionBudget' && o.metadata.name === app)!;
      expect(pdb.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': app });
      const hpa = objects.find((o) => o.kind === 'HorizontalPodAutoscaler' && o.metadata.name === app)!;
      expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: app });
      expect(appDeployment(objects, app).spec.replicas).toBeUndefined();
    }
  });

  it('denies all ingress and egress by default', () => {
    const deny = objects.find(
      (o) => o.kind === 'NetworkPolicy' && Object.keys(o.spec.podSelector).length === 0 && !o.spec.ingress && !o.spec.egress,
    );
    expect(deny?.spec.policyTypes).toEqual(expect.arrayContaining(['Ingress', 'Egress']));
  });

  it.each(Object.entries(GRPC))('lets only %s gRPC callers from the one service that needs it', (app, { port, onlyFrom }) => {
    const peers = ingressPeers(objects, { 'app.kubernetes.io/name': app }, port);
    expect(peers).toEqual([{ podSelector: { matchLabels: { 'app.kubernetes.io/name': onlyFrom } } }]);
  });

  it.each(SERVICES)('lets %s HTTP in only from the ingress controller, Prometheus and (auth) the resource servers', (app) => {
    const peers = ingressPeers(objects, { 'app.kubernetes.io/name': app }, HTTP_PORT[app]);
    const allowed = [
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } },
      // Prometheus's pods only, not every pod of its namespace.
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
        podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } },
      },
      ...(app === 'auth'
        ? ['users', 'orders'].map((s) => ({ podSelector: { matchLabels: { 'app.kubernetes.io/name': s } } }))
        : []),
    ];
    expect(peers).toEqual(expect.arrayContaining(allowed));
    expect(peers).toHaveLength(allowed.length);
  });

  it('allows no NetworkPolicy peer from anywhere (no empty from/to, no 0.0.0.0/0)', () => {
    for (const np of objects.filter((o) => o.kind === 'NetworkPolicy')) {
      for (const rule of [...(np.spec.ingress ?? []), ...(np.spec.egress ?? [])]) {
        const peers = rule.from ?? rule.to;
        expect(peers?.length).toBeGreaterThan(0);
        for (const p of peers) expect(p.ipBlock?.cidr).not.toBe('0.0.0.0/0');
        expect(rule.ports?.length).toBeGreaterThan(0);
      }
    }
  });

  it('keeps secret values out of the manifests: Secrets come only from generators', () => {
    for (const s of objects.filter((o) => o.kind === 'Secret')) {
      // A generated Secret's name ends in a content hash.
      expect(s.metadata.name).toMatch(/-[a-z0-9]{10}$/);
    }
  });

  it('namespaces enforce the restricted Pod Security Standard', () => {
    const ns = objects.find((o) => o.kind === 'Namespace')!;
    expect(ns.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });
});

describe('k8s overlay prod: datastores', () => {
  const objects = manifests.get('prod') ?? [];

  it('connects to NATS over TLS only, trusting the CA mounted from datastore-ca', () => {
    const config = objects.find((o) => o.kind === 'ConfigMap' && o.data?.NATS_URL !== undefined)!;
    expect(config.data.NATS_URL).toMatch(/^tls:\/\//);
    expect(config.data.NATS_CA_FILE).toBe('/etc/datastore-ca/nats-ca.pem');
    for (const app of SERVICES) {
      const pod = appDeployment(objects, app).spec.template.spec;
      expect(pod.volumes).toContainEqual(
        expect.objectContaining({ name: 'datastore-ca', secret: expect.objectContaining({ secretName: 'datastore-ca' }) }),
      );
      for (const container of [...pod.containers, ...pod.initContainers]) {
        expect({ app, container: container.name, mounts: container.volumeMounts }).toEqual({
          app,
          container: container.name,
          mounts: expect.arrayContaining([{ name: 'datastore-ca', mountPath: '/etc/datastore-ca', readOnly: true }]),
        });
      }
    }
  });

  const containerEnv = (app: string): Record<string, string> => {
    const container = appDeployment(objects, app).spec.template.spec.containers.find((c: any) => c.name === app);
    const env: Record<string, string> = {};
    for (const source of container.envFrom ?? []) {
      const map = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === source.configMapRef?.name);
      Object.assign(env, map?.data ?? {});
    }
    for (const variable of container.env ?? []) if (variable.value !== undefined) env[variable.name] = variable.value;
    return env;
  };

  it.each(SERVICES)('serves %s over HTTPS only, with the certificate of a Secret only that pod mounts', (app) => {
    const pod = appDeployment(objects, app).spec.template.spec;
    const container = pod.containers.find((c: any) => c.name === app);
    const env = containerEnv(app);
    expect(env.HTTP_PLAINTEXT).toBeUndefined();
    expect(env).toMatchObject({ HTTP_TLS_CERT_FILE: '/etc/service-tls/tls.crt', HTTP_TLS_KEY_FILE: '/etc/service-tls/tls.key' });
    expect(container.volumeMounts).toContainEqual({ name: 'service-tls', mountPath: '/etc/service-tls', readOnly: true });
    // The private key: readable by the service's group (fsGroup), by no one else.
    // Required here (a missing Secret keeps the pod from starting), optional in the base for dev.
    expect(pod.volumes).toContainEqual({ name: 'service-tls', secret: { secretName: `${app}-tls`, defaultMode: 0o440, optional: false } });
    expect(pod.securityContext.fsGroup).toBe(1000);
    for (const init of pod.initContainers) expect(init.volumeMounts.map((m: any) => m.name)).not.toContain('service-tls');
    for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
      expect({ probe, scheme: container[probe].httpGet.scheme }).toEqual({ probe, scheme: 'HTTPS' });
    }
    const service = objects.find((o) => o.kind === 'Service' && o.metadata.name === app)!;
    expect(service.spec.ports.find((p: any) => p.name === 'http').appProtocol).toBe('https');
  });

  it('fetches auth over HTTPS at its Service, whose name its certificate carries, trusting the services CA', () => {
    const authPort = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'auth')!.spec.ports.find((p: any) => p.name === 'http').port;
    for (const app of SERVICES) {
      expect(containerEnv(app)).toMatchObject({
        AUTH_ISSUER: `https://auth:${authPort}`,
        NODE_EXTRA_CA_CERTS: '/etc/service-tls/ca.crt',
      });
    }
  });

  it('calls gRPC with mutual TLS only, with that certificate', () => {
    for (const app of ['users', 'orders']) {
      const env = containerEnv(app);
      expect({ app, plaintext: env.GRPC_PLAINTEXT }).toEqual({ app, plaintext: undefined });
      expect(env).toMatchObject({
        GRPC_TLS_CERT_FILE: '/etc/service-tls/tls.crt',
        GRPC_TLS_KEY_FILE: '/etc/service-tls/tls.key',
        GRPC_TLS_CA_FILE: '/etc/service-tls/ca.crt',
      });
      // No "cleartext HTTP/2" hint on a TLS port (a mesh or gateway would speak h2c to it).
      const service = objects.find((o) => o.kind === 'Service' && o.metadata.name === app)!;
      expect(service.spec.ports.find((p: any) => p.name === 'grpc')).not.toHaveProperty('appProtocol');
    }
  });

  it('verifies PostgreSQL against that CA in every example connection string', () => {
    for (const app of SERVICES) {
      expect(read(`k8s/overlays/prod/secrets/${app}.env.example`)).toMatch(
        /^DATABASE_URL=postgres:\/\/\S+\?sslmode=verify-full&sslrootcert=\/etc\/datastore-ca\/postgres-ca\.pem$/m,
      );
    }
  });
});

describe('committed files carry no secret', () => {
  const committed = [
    'Dockerfile',
    'docker-compose.yml',
    '.env.example',
    ...filesUnder('deploy'),
    ...filesUnder('k8s').filter((f) => !/\/secrets\/[^/]+\.env$/.test(f)),
  ];

  it('ignores the real secret files in git', () => {
    for (const f of ['.env', 'k8s/overlays/dev/secrets/auth.env', 'k8s/overlays/prod/secrets/users.env']) {
      const r = spawnSync('git', ['check-ignore', '-q', f], { cwd: ROOT });
      expect({ f, ignored: r.status === 0 }).toEqual({ f, ignored: true });
    }
  });

  it('has only placeholders for secret keys in every *.example file', () => {
    const examples = committed.filter((f) => /\.example$/.test(f));
    expect(examples.length).toBeGreaterThan(5);
    for (const f of examples) {
      for (const line of read(f).split('\n')) {
        const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
        if (!m || !SECRET_NAME.test(m[1])) continue;
        // Empty, or a URL/value whose secret part is a <placeholder>.
        expect({ f, line, ok: m[2] === '' || /<[^>]+>/.test(m[2]) }).toEqual({ f, line, ok: true });
      }
    }
  });

  it('contains no long random-looking strings (keys, hex or base64 secrets)', () => {
    for (const f of committed) {
      const hits = read(f).match(/\b[0-9a-f]{32,}\b|[A-Za-z0-9+/]{40,}={0,2}/g) ?? [];
      expect({ f, hits }).toEqual({ f, hits: [] });
    }
  });

  it('bakes no secret into the image', () => {
    const dockerfile = read('Dockerfile');
    expect(dockerfile).not.toMatch(/^\s*(ENV|ARG)\s+[A-Z_]*(PASSWORD|SECRET|KEY)[A-Z_]*[= ]/im);
    expect(read('.dockerignore').split('\n')).toEqual(expect.arrayContaining(['.env', 'k8s']));
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');

  it('runs as a numeric non-root user, in production mode, with a node health check', () => {
    expect(dockerfile).toMatch(/^USER 1000:1000$/m);
    expect(dockerfile).toMatch(/^ENV NODE_ENV=production/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n?.*CMD \["node".*\/health\/live/m);
  });

  it('pins its base image and starts each app with node directly', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:\d+\.\d+\.\d+-[\w-]+$/m);
    // The release CI tests on (.ci/run installs .node-version), on Debian's current stable.
    const nodeVersion = read('.node-version').trim();
    expect(dockerfile).toContain(`\nARG NODE_IMAGE=node:${nodeVersion}-trixie-slim\n`);
    expect(dockerfile).not.toMatch(/:latest\b/);
    for (const app of SERVICES) expect(dockerfile).toContain(`CMD ["node", "dist/apps/${app}/src/main.js"]`);
  });
});

describe('docker-compose.yml', () => {
  const compose = YAML.parse(read('docker-compose.yml'), { merge: true });
  const services: Record<string, any> = compose.services;

  it.each(SERVICES)('gives %s every setting its production configuration requires', (app) => {
    // `${VAR}` and `${VAR:?message}` come from .env (a secret here); `${VAR:-default}` may not.
    const env = Object.fromEntries(
      Object.entries(services[app].environment as Record<string, unknown>).map(([name, value]) => [
        name,
        String(value).replace(/\$\{(\w+)(?::-([^}]*)|:\?[^}]*)?\}/g, (_all, variable: string, fallback?: string) =>
          fallback !== undefined ? fallback : dummySecret(variable),
        ),
      ]),
    );
    expect(() => LOAD_CONFIG[app](env)).not.toThrow();
  });

  it('publishes only the three HTTP ports, each on its own service', () => {
    const published = Object.entries(services).flatMap(([name, s]) =>
      (s.ports ?? []).map((p: string) => [name, Number(String(p).split(':').at(-1))]),
    );
    expect(published.sort()).toEqual([
      ['auth', 3001],
      ['orders', 3003],
      ['users', 3002],
    ]);
  });

  it('pins every image to a version tag', () => {
    for (const [name, s] of Object.entries(services)) {
      expect({ name, image: s.image }).toEqual({ name, image: expect.stringMatching(/:(\d|\$\{IMAGE_TAG)/) });
      expect(s.image).not.toMatch(/:latest$/);
    }
  });

  it.each(SERVICES)('gives %s its own NATS user and password, and secrets only from .env', (app) => {
    const env = services[app].environment;
    expect(env.NATS_USER).toBe(app);
    expect(env.NATS_PASSWORD).toBe(`\${NATS_${app.toUpperCase()}_PASSWORD}`);
    expect(services.nats.environment[`NATS_${app.toUpperCase()}_PASSWORD`]).toMatch(/^\$\{NATS_/);
    for (const [k, v] of Object.entries<string>(env)) {
      if (SECRET_NAME.test(k)) expect({ k, v }).toEqual({ k, v: expect.stringContaining('${') });
    }
  });

  it.each(SERVICES)('starts %s after its migration and healthy dependencies, and health-checks readiness', (app) => {
    const s = services[app];
    expect(s.depends_on[`${app}-migrate`]).toEqual({ condition: 'service_completed_successfully' });
    expect(s.depends_on.nats).toEqual({ condition: 'service_healthy' });
    expect(s.healthcheck.test.join(' ')).toContain('/health/ready');
    expect(s.read_only).toBe(true);
    expect(s.cap_drop).toEqual(['ALL']);
    expect(services[`${app}-migrate`].command).toEqual(['node', `dist/apps/${app}/src/migrate.js`]);
  });

  it('runs Redis as its redis user: its shell command bypasses the entrypoint that drops root', () => {
    expect(services.redis.command.join(' ')).toMatch(/^sh -c/);
    expect(services.redis.user).toBe('redis');
  });

  it('runs NATS unprivileged, after a one-shot job has handed it the JetStream volume', () => {
    const nats = services.nats;
    expect(nats.user).toBe('1000:1000');
    expect(nats.read_only).toBe(true);
    expect(nats.cap_drop).toEqual(['ALL']);
    expect(nats.security_opt).toEqual(['no-new-privileges:true']);
    expect(nats.depends_on['nats-data-init']).toEqual({ condition: 'service_completed_successfully' });
    const init = services['nats-data-init'];
    expect(init.entrypoint).toEqual(['chown', '-R', nats.user, '/data']);
    expect(init.volumes).toEqual([nats.volumes.find((v: string) => v.endsWith(':/data'))]);
    expect(init.cap_drop).toEqual(['ALL']);
    expect(init.cap_add).toEqual(['CHOWN']);
    expect(init.network_mode).toBe('none');
  });

  it('keeps PostgreSQL, NATS and Redis on an internal network', () => {
    expect(compose.networks.backend.internal).toBe(true);
    for (const name of ['postgres', 'nats', 'redis']) expect(services[name].networks).toEqual(['backend']);
  });
});

describe('NATS permissions', () => {
  const permissions = read('deploy/nats/permissions.conf');

  it('defines one user per service, each with its own password variable and permissions', () => {
    const users = [...permissions.matchAll(/\{\s*user:\s*(\w+),\s*password:\s*\$(\w+),\s*permissions:\s*\$(\w+)\s*\}/g)].map(
      (m) => m.slice(1),
    );
    expect(users).toEqual(SERVICES.map((s) => [s, `NATS_${s.toUpperCase()}_PASSWORD`, `${s.toUpperCase()}_PERMISSIONS`]));
  });

  it('is the very configuration the k8s dev overlay loads', () => {
    for (const [a, b] of [
      ['deploy/nats/nats.conf', 'k8s/overlays/dev/nats/nats.conf'],
      ['deploy/nats/permissions.conf', 'k8s/overlays/dev/nats/permissions.conf'],
      ['deploy/postgres/init-databases.sh', 'k8s/overlays/dev/postgres/init-databases.sh'],
    ]) {
      expect({ file: b, same: read(a) === read(b) }).toEqual({ file: b, same: true });
    }
  });

  it('is what compose mounts', () => {
    const compose = YAML.parse(read('docker-compose.yml'), { merge: true });
    expect(compose.services.nats.volumes).toContain('./deploy/nats:/etc/nats:ro');
    expect(relative(ROOT, join(ROOT, 'deploy/nats/nats.conf'))).toBe('deploy/nats/nats.conf');
    expect(read('deploy/nats/nats.conf')).toMatch(/^include \.\/permissions\.conf$/m);
  });
});

describe('k8s/overlays/dev/secrets/generate.sh', () => {
  const script = join(ROOT, 'k8s/overlays/dev/secrets/generate.sh');
  const envOf = (dir: string, app: string) =>
    Object.fromEntries(
      readFileSync(join(dir, `${app}.env`), 'utf8')
        .split('\n')
        .filter((line) => line.includes('='))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );

  it('gives every service one METRICS_TOKEN, and adds it to files from before it, keeping the rest', () => {
    const dir = mkdtempSync(join(tmpdir(), 'generate-'));
    try {
      execFileSync('bash', [script, dir], { stdio: 'pipe' });
      const tokens = SERVICES.map((app) => envOf(dir, app).METRICS_TOKEN);
      expect(tokens[0]).toMatch(/^[0-9a-f]{64}$/);
      expect(new Set(tokens).size).toBe(1);
      // An older version's files: no METRICS_TOKEN. A second run adds one and changes nothing else.
      for (const app of SERVICES) {
        const file = join(dir, `${app}.env`);
        const lines = readFileSync(file, 'utf8').split('\n');
        // ...and, as a hand-edited file may, no newline after its last line.
        const kept = lines.filter((line) => !line.startsWith('METRICS_TOKEN='));
        writeFileSync(file, kept.join('\n').trimEnd());
      }
      const before = SERVICES.map((app) => envOf(dir, app));
      execFileSync('bash', [script, dir], { stdio: 'pipe' });
      const after = SERVICES.map((app) => envOf(dir, app));
      expect(new Set(after.map((env) => env.METRICS_TOKEN)).size).toBe(1);
      expect(after[0].METRICS_TOKEN).toMatch(/^[0-9a-f]{64}$/);
      after.forEach((env, i) => {
        const { METRICS_TOKEN: _added, ...rest } = env;
        expect(rest).toEqual(before[i]);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
