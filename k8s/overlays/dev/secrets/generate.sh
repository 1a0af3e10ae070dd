#!/usr/bin/env bash
# Writes a consistent, random set of development secrets next to this script
# (auth.env, users.env, ...; git-ignored), for `kubectl apply -k k8s/overlays/dev`.
# The same password must appear in postgres.env and in the service's DATABASE_URL, and
# each client secret in both auth.env and the client's own file, which is why they are
# generated together. Existing files are kept unless --force is given.
#   Usage: generate.sh [--force] [DIR]   (DIR defaults to this script's folder)
set -euo pipefail

force=false
if [[ "${1:-}" == "--force" ]]; then force=true; shift; fi
dir="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}"

hex() { od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; }
# nats-server parses a password taken from the environment as a config value (`1e5...`
# would be a number): NATS passwords start with a letter.
nats_hex() { printf 'n%s' "$(hex)"; }
b64() { head -c 32 /dev/urandom | base64 | tr -d '\n'; }

# Files written before METRICS_TOKEN existed: give the services that lack it one shared value
# (the one a service file already has, if any), so that an upgrade keeps every other secret.
add_missing_metrics_token() {
  local token="" f
  for f in auth users orders; do
    [[ -e "$dir/$f.env" ]] || continue
    token=$(sed -n 's/^METRICS_TOKEN=\(..*\)$/\1/p' "$dir/$f.env" | head -n 1)
    [[ -n "$token" ]] && break
  done
  [[ -n "$token" ]] || token=$(hex)
  for f in auth users orders; do
    [[ -e "$dir/$f.env" ]] || continue
    grep -q '^METRICS_TOKEN=.' "$dir/$f.env" && continue
    sed -i '/^METRICS_TOKEN=$/d' "$dir/$f.env"
    # A file whose last line has no newline would get the token glued onto that line.
    [[ -z "$(tail -c 1 "$dir/$f.env")" ]] || echo >> "$dir/$f.env"
    printf 'METRICS_TOKEN=%s\n' "$token" >> "$dir/$f.env"
    echo "generate.sh: added METRICS_TOKEN to $dir/$f.env" >&2
  done
}

if ! $force; then
  for f in auth users orders postgres nats redis; do
    if [[ -e "$dir/$f.env" ]]; then
      add_missing_metrics_token
      echo "generate.sh: $dir/$f.env exists; keeping all files (use --force to replace)" >&2
      exit 0
    fi
  done
fi

umask 077
auth_db=$(hex) users_db=$(hex) orders_db=$(hex)
nats_auth=$(nats_hex) nats_users=$(nats_hex) nats_orders=$(nats_hex)
redis=$(hex) users_client=$(hex) orders_client=$(hex) metrics=$(hex)

cat > "$dir/postgres.env" <<ENV
POSTGRES_PASSWORD=$(hex)
AUTH_DB_PASSWORD=$auth_db
USERS_DB_PASSWORD=$users_db
ORDERS_DB_PASSWORD=$orders_db
ENV
cat > "$dir/nats.env" <<ENV
NATS_AUTH_PASSWORD=$nats_auth
NATS_USERS_PASSWORD=$nats_users
NATS_ORDERS_PASSWORD=$nats_orders
ENV
cat > "$dir/redis.env" <<ENV
REDIS_PASSWORD=$redis
ENV
cat > "$dir/auth.env" <<ENV
DATABASE_URL=postgres://auth:$auth_db@postgres:5432/auth
NATS_PASSWORD=$nats_auth
REDIS_URL=redis://:$redis@redis:6379/0
KEY_ENCRYPTION_KEY=$(b64)
ADMIN_EMAIL=admin@example.com
ADMIN_PASSWORD=$(hex)
USERS_CLIENT_SECRET=$users_client
ORDERS_CLIENT_SECRET=$orders_client
METRICS_TOKEN=$metrics
ENV
cat > "$dir/users.env" <<ENV
DATABASE_URL=postgres://users:$users_db@postgres:5432/users
NATS_PASSWORD=$nats_users
CLIENT_SECRET=$users_client
METRICS_TOKEN=$metrics
ENV
cat > "$dir/orders.env" <<ENV
DATABASE_URL=postgres://orders:$orders_db@postgres:5432/orders
NATS_PASSWORD=$nats_orders
CLIENT_SECRET=$orders_client
REDIS_URL=redis://:$redis@redis:6379/0
METRICS_TOKEN=$metrics
ENV
echo "generate.sh: wrote development secrets to $dir (admin password in auth.env)"
