#!/bin/sh
# Runs in temporalio/admin-tools: creates Temporal's two databases and migrates their schemas
# (the supported replacement for the deprecated auto-setup image). Idempotent: safe on every `up`.
set -eu
TOOL="temporal-sql-tool --plugin postgres12 --ep ${POSTGRES_SEEDS} -p ${DB_PORT:-5432} -u ${POSTGRES_USER} -pw ${POSTGRES_PWD}"
SCHEMA=/etc/temporal/schema/postgresql/v12
for db in temporal:temporal temporal_visibility:visibility; do
  name=${db%%:*}; dir=${db##*:}
  $TOOL --db "$name" create-database || true   # already exists on a second run
  $TOOL --db "$name" setup-schema -v 0.0 || true
  $TOOL --db "$name" update-schema -d "$SCHEMA/$dir/versioned"
done
