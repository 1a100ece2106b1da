#!/usr/bin/env bash
# make bench-pgbench: the database ceiling of session create on PostgreSQL.
# Runs pgbench with the statement of one create (create.sql) against a
# fresh Switchyard schema, with the same concurrency as make bench-http
# (32 clients, 2 threads), prepared statements as pgx uses them; then 8
# creates to a pipelined transaction over 4 clients, as serve's group
# commit sends them (create_group.sql).
# Usage: run.sh SWITCHYARD_BIN DSN [seconds]
set -euo pipefail
bin=$1 dsn=$2 secs=${3:-10}
here=$(cd "$(dirname "$0")" && pwd)
schema=pgbench_$(head -c4 /dev/urandom | od -An -tx1 | tr -d ' \n')
sep='?'; [[ $dsn == *\?* ]] && sep='&'
work=$(mktemp -d)
trap 'psql "$dsn" -qc "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
cat > "$work/sy.yaml" <<YAML
secrets: {keys: [{id: k1, key: MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=}]}
YAML
export SWITCHYARD_STORE_DSN="$dsn${sep}search_path=$schema"
"$bin" migrate --config "$work/sy.yaml" >/dev/null
merchant=$("$bin" merchants create --config "$work/sy.yaml" --name PGBench --plan free --domain shop.test \
  --contact-email ops@shop.test --json | sed -n 's/^ *"id": \([0-9]*\),*$/\1/p' | head -n1)
echo "pgbench: schema $schema, merchant $merchant, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "one create per transaction, 32 clients (create.sql):"
PGOPTIONS="-c search_path=$schema" pgbench -n -M prepared -c 32 -j 2 -T "$secs" -D merchant="$merchant" \
  -f "$here/create.sql" "$dsn" 2>&1 | grep -E "^(number of transactions actually|latency average|tps|number of failed)"
echo "8 creates per transaction, pipelined, 4 clients (create_group.sql; creates/s = 8 × tps):"
PGOPTIONS="-c search_path=$schema" pgbench -n -M prepared -c 4 -j 2 -T "$secs" -D merchant="$merchant" \
  -f "$here/create_group.sql" "$dsn" 2>&1 | grep -E "^(number of transactions actually|latency average|tps|number of failed)"
