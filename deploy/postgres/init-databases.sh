#!/usr/bin/env bash
# Creates one database and one login role per service (SPEC §1: each service owns its
# own database; no service reads another's tables). Run once by the postgres image's
# entrypoint (/docker-entrypoint-initdb.d) on an empty data directory, so changing a
# password later is done with ALTER ROLE (README.md, Deployment), not by editing .env alone.
#
# Passwords come from the environment and reach psql as variables (:'pw' quotes them),
# never interpolated into SQL text.
set -euo pipefail

for service in auth users orders; do
  var="${service^^}_DB_PASSWORD"
  password="${!var:-}"
  if [[ -z "$password" ]]; then
    echo "init-databases: $var is not set" >&2
    exit 1
  fi
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v role="$service" -v pw="$password" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'pw';
CREATE DATABASE :"role" OWNER :"role";
-- PUBLIC may connect to every new database by default: only the owner may here.
REVOKE ALL ON DATABASE :"role" FROM PUBLIC;
SQL
  # PostgreSQL < 15 lets PUBLIC create objects in schema public; make it the owner's.
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$service" -v role="$service" <<'SQL'
ALTER SCHEMA public OWNER TO :"role";
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SQL
  echo "init-databases: created database and role $service"
done
