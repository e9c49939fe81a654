#!/usr/bin/env bash
# The server-side cache under load: the same query (the demo's getFlight)
# served uncached, from the resolver cache and from the operation cache,
# each run beside the static axum endpoint (scripts/bench-server.sh), then
# the cache's memory under a load of distinct keys (examples/cache_memory.rs).
#
#   scripts/bench-cache.sh
#
# Tunables: DURATION (s per run, default 6), MEMORY_KEYS (distinct keys for
# the memory run, default 300000), MEMORY_BUDGET_MIB (default 16), and those
# of scripts/bench-server.sh. Results go to stdout; copy them into
# docs/benchmarks.md.
set -euo pipefail

cd "$(dirname "$0")/.."
export DURATION=${DURATION:-6}
TARGET=${CARGO_TARGET_DIR:-target}/release
QUERY=${QUERY:-'{ getFlight(id: \"FL00001\") { id departureCity arrivalCity ticketPrice } }'}

cargo build --release --example bench_server --example loadgen --example cache_memory --bin appsync-local

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Three copies of the demo project: its own caching block removed
# (uncached), as it is (PER_RESOLVER_CACHING on Query.getFlight), and with
# OPERATION_LEVEL_CACHING. TTLs of 3600 s outlast the runs.
for variant in uncached resolver operation; do
    mkdir -p "$work/$variant"
    cp -r appsync.yaml schema.graphql resolvers seed "$work/$variant/"
done
sed -i '/^caching:/,/^[^ ]/{/^caching:/d;/^  /d}' "$work/uncached/appsync.yaml"
sed -i 's/^  ttl: [0-9]*/  ttl: 3600/; s/^      ttl: [0-9]*/      ttl: 3600/' "$work/resolver/appsync.yaml"
sed -i 's/^  behavior: PER_RESOLVER_CACHING/  behavior: OPERATION_LEVEL_CACHING/; s/^  ttl: [0-9]*/  ttl: 3600/' \
    "$work/operation/appsync.yaml"

for variant in uncached resolver operation; do
    echo "== $variant"
    PROJECT="$work/$variant" QUERY="$QUERY" SERVE=1 scripts/bench-server.sh
done

echo "== memory: a budget nothing reaches (calibration: real memory per weighted byte)"
"$TARGET/examples/cache_memory" --budget-mib 4096 --keys 100000 | tail -1
echo "== memory: distinct keys at a small budget"
"$TARGET/examples/cache_memory" --budget-mib "${MEMORY_BUDGET_MIB:-16}" --keys "${MEMORY_KEYS:-300000}"
