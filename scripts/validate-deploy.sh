#!/usr/bin/env bash
# Offline validation of everything under deploy/, k8s/, docker-compose.yml and the
# Dockerfile: no Docker engine, no cluster, no network except the npm registry (only
# when kubernetes-models is not installed yet). Prints each check; exits non-zero on
# the first failure.
#
# Needs: kubectl (for `kubectl kustomize`), docker-compose (Debian package
# docker-compose; `docker compose` v2 is used instead when present), nats-server
# (Debian package nats-server), node + the repo's node_modules (yaml, typescript).
#
# Env:
#   KUBERNETES_MODELS_DIR  folder whose node_modules has kubernetes-models (default: the
#                          repo if it has it, else ~/.cache/s2s-validate-deploy, where
#                          the pinned version below is installed on first use)
#   KEEP_RENDERED=DIR      also write the rendered overlays to DIR
set -euo pipefail

KUBERNETES_MODELS_VERSION=4.5.1
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

step() { printf '\n== %s\n' "$*"; }
ok() { printf 'ok   %s\n' "$*"; }
fail() { printf 'FAIL %s\n' "$*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || fail "$1 not found: $2"; }

need kubectl "install kubectl (Debian: kubernetes-client or the kubectl package)"
need nats-server "apt-get install nats-server"
need node "Node.js 20+"

step "Tools"
ok "kubectl $(kubectl version --client 2>/dev/null | tr '\n' ' ')"
ok "$(nats-server --version)"

# ---------------------------------------------------------------------------------
step "Copies that must stay identical (kustomize cannot load files outside an overlay)"
for pair in \
  "deploy/nats/nats.conf k8s/overlays/dev/nats/nats.conf" \
  "deploy/nats/permissions.conf k8s/overlays/dev/nats/permissions.conf" \
  "deploy/postgres/init-databases.sh k8s/overlays/dev/postgres/init-databases.sh"; do
  set -- $pair
  cmp -s "$1" "$2" || fail "$2 differs from $1: copy it again (cp $1 $2)"
  ok "$2 == $1"
done

# ---------------------------------------------------------------------------------
step "NATS configuration (nats-server -t)"
export NATS_AUTH_PASSWORD=validate-a NATS_USERS_PASSWORD=validate-u NATS_ORDERS_PASSWORD=validate-o
nats-server -t -c deploy/nats/nats.conf >/dev/null 2>&1 || { nats-server -t -c deploy/nats/nats.conf; fail "deploy/nats/nats.conf"; }
ok "deploy/nats/nats.conf (with permissions.conf) parses"
if env -u NATS_USERS_PASSWORD nats-server -t -c deploy/nats/nats.conf >/dev/null 2>&1; then
  fail "nats.conf accepted a missing NATS_USERS_PASSWORD"
fi
ok "nats.conf refuses to load without every NATS_*_PASSWORD"
unset NATS_AUTH_PASSWORD NATS_USERS_PASSWORD NATS_ORDERS_PASSWORD
bash -n deploy/postgres/init-databases.sh k8s/overlays/dev/secrets/generate.sh
ok "shell scripts parse (bash -n)"

# ---------------------------------------------------------------------------------
step "docker-compose.yml"
# Compose needs every secret: generate throwaway values from .env.example's keys.
env_file="$work/compose.env"
while IFS= read -r line; do
  if [[ "$line" =~ ^([A-Z0-9_]+)=$ ]]; then
    echo "${BASH_REMATCH[1]}=validate$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')"
  elif [[ "$line" =~ ^[A-Z0-9_]+= ]]; then
    echo "$line"
  fi
done < .env.example > "$env_file"
if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose)
else
  fail "neither 'docker compose' nor docker-compose found: apt-get install docker-compose"
fi
"${compose[@]}" --env-file "$env_file" -f docker-compose.yml config -q || fail "docker-compose.yml"
ok "docker-compose.yml is valid ($("${compose[@]}" version --short 2>/dev/null || echo "${compose[*]}"))"
empty_env="$work/empty.env"
grep -v '^\(POSTGRES_PASSWORD\)=' "$env_file" > "$empty_env"
if "${compose[@]}" --env-file "$empty_env" -f docker-compose.yml config -q >/dev/null 2>&1; then
  fail "compose accepted a missing POSTGRES_PASSWORD"
fi
ok "compose refuses to start without a required secret"
"${compose[@]}" --env-file "$env_file" -f docker-compose.yml config > "$work/compose.rendered.yml"

# ---------------------------------------------------------------------------------
step "Kustomize (kubectl kustomize)"
# Overlays read secrets/*.env, which are git-ignored: render a copy of k8s/ in which
# every missing one is its committed *.env.example.
cp -R k8s "$work/k8s"
for example in "$work"/k8s/overlays/*/secrets/*.env.example; do
  [[ -e "${example%.example}" ]] || cp "$example" "${example%.example}"
done
rendered=()
for dir in "$work/k8s/base" "$work"/k8s/overlays/*/; do
  dir="${dir%/}"
  name="${dir#"$work/"}"
  out="$work/rendered-${name//\//-}.yaml"
  kubectl kustomize "$dir" > "$out" || fail "kubectl kustomize $name"
  ok "$name renders: $(grep -c '^kind:' "$out") objects ($(grep '^kind:' "$out" | sort | uniq -c | awk '{printf "%s %s, ", $1, $3}' | sed 's/, $//'))"
  rendered+=("$out")
done
if [[ -n "${KEEP_RENDERED:-}" ]]; then
  mkdir -p "$KEEP_RENDERED" && cp "${rendered[@]}" "$work/compose.rendered.yml" "$KEEP_RENDERED"/
  ok "rendered manifests copied to $KEEP_RENDERED"
fi

# ---------------------------------------------------------------------------------
step "Kubernetes schema (kubernetes-models $KUBERNETES_MODELS_VERSION: OpenAPI types, required and unknown fields)"
models_dir="${KUBERNETES_MODELS_DIR:-}"
if [[ -z "$models_dir" ]]; then
  if [[ -d node_modules/kubernetes-models ]]; then
    models_dir="$repo"
  else
    models_dir="${XDG_CACHE_HOME:-$HOME/.cache}/s2s-validate-deploy"
    if [[ ! -d "$models_dir/node_modules/kubernetes-models" ]]; then
      echo "installing kubernetes-models@$KUBERNETES_MODELS_VERSION into $models_dir (npm registry)"
      mkdir -p "$models_dir"
      npm install --prefix "$models_dir" --no-save --no-package-lock --no-audit --no-fund \
        --loglevel=error "kubernetes-models@$KUBERNETES_MODELS_VERSION" >/dev/null
    fi
  fi
fi
ok "kubernetes-models $(node -p "require(require.resolve('kubernetes-models/package.json', {paths: ['$models_dir']})).version") from $models_dir"
node deploy/validate/validate-manifests.cjs "$models_dir" "${rendered[@]}" 2>&1 | sed "s#$work/##g"
[[ "${PIPESTATUS[0]}" == 0 ]] || fail "Kubernetes schema validation"

# ---------------------------------------------------------------------------------
step "Dockerfile (static checks; building needs a Docker engine)"
grep -q '^USER 1000:1000' Dockerfile || fail "Dockerfile: final stage must run as USER 1000:1000"
grep -q '^HEALTHCHECK' Dockerfile || fail "Dockerfile: no HEALTHCHECK"
grep -Eq '^FROM [^ ]+:latest|^ARG NODE_IMAGE=[^ ]+:latest' Dockerfile && fail "Dockerfile: image tag latest"
grep -Eiq '^(ENV|ARG) +[A-Z_]*(PASSWORD|SECRET|KEY)[A-Z_]*=' Dockerfile && fail "Dockerfile: a secret is baked in"
for app in auth users orders; do
  grep -q "CMD \[\"node\", \"dist/apps/$app/src/main.js\"\]" Dockerfile || fail "Dockerfile: no CMD for $app"
done
grep -qx '.env' .dockerignore || fail ".dockerignore must exclude .env"
ok "Dockerfile: non-root, HEALTHCHECK, pinned base, no secrets, one CMD per app; .dockerignore excludes .env"

printf '\nAll deployment checks passed.\n'
