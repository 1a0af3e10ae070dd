# syntax=docker/dockerfile:1
#
# One image recipe for every service:
#   docker build --build-arg APP=users -t s2s/users:0.1.0 .
# APP is auth, users or orders. The image holds all three builds (they share one
# package-lock and libs/), but starts and health-checks only APP.

# Node 26 (LTS "Lithium", supported until 2029-04-30) on Debian 13: the version in
# .node-version, which CI tests on. Node 20 reached its end of life on 2026-04-30.
ARG NODE_IMAGE=node:26.12.1-trixie-slim
ARG APP=auth

# ---- build: full install, compile every app ----------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: npm 11 (used to write the lock) skips dependency install scripts,
# and every native dependency ships prebuilt binaries; running scripts here would make
# the image differ from what developers test.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build

# ---- deps: production dependencies only ----------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# ---- runtime: shared by every app ----------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PROTO_DIR=/app/proto
WORKDIR /app
# Files stay owned by root and read-only for the service user: a compromised process
# cannot rewrite its own code (k8s additionally mounts the root filesystem read-only).
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY proto ./proto
# Numeric UID (the `node` user of the base image) so Kubernetes' runAsNonRoot can
# verify it without resolving names.
USER 1000:1000
# No curl in slim images; node is enough. PORT is set per app below. Over HTTPS when the service
# serves it (HTTP_TLS_*): the probe calls its own container's port, sends nothing and reads only
# the status, so it does not check the certificate (which names the service, not 127.0.0.1).
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "require(process.env.HTTP_TLS_CERT_FILE ? 'node:https' : 'node:http').get({ host: '127.0.0.1', port: process.env.PORT, path: '/health/live', rejectUnauthorized: false }, (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1))"]

# One stage per app: exec-form CMD cannot expand variables, and node must be PID 1
# to receive SIGTERM directly for graceful shutdown.
FROM runtime AS app-auth
ENV PORT=3001
EXPOSE 3001
CMD ["node", "dist/apps/auth/src/main.js"]

FROM runtime AS app-users
ENV PORT=3002 GRPC_PORT=50052
EXPOSE 3002 50052
CMD ["node", "dist/apps/users/src/main.js"]

FROM runtime AS app-orders
ENV PORT=3003 GRPC_PORT=50053
EXPOSE 3003 50053
CMD ["node", "dist/apps/orders/src/main.js"]

# The build arg picks the final image; BuildKit builds only the stages it needs.
FROM app-${APP}
ARG APP
LABEL org.opencontainers.image.title="s2s-${APP}" \
      org.opencontainers.image.description="s2s-auth-suite service image; APP selects auth, users or orders"
