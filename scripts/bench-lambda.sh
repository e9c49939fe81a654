#!/usr/bin/env bash
# Lambda data sources on this machine: a warm direct resolver on Node.js
# against a NONE resolver of the same server (the ceiling), in one run;
# worker cold starts; and the invocations a batched list field costs.
#
#   scripts/bench-lambda.sh
#
# Tunables: DURATION (s, default 10), CONNECTIONS (default 32), THREADS
# (load generator threads, default 1). Results go to stdout; copy them into
# docs/benchmarks.md.
set -euo pipefail

cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-1}
TARGET=${CARGO_TARGET_DIR:-target}/release
KEY='x-api-key: da2-lambda'

cargo build --release --bin appsync-local --example loadgen

source scripts/bench-common.sh
loadgen() { "$TARGET/examples/loadgen" --threads "$THREADS" --header "$KEY" "$@"; }
metric() { curl -s "$base/metrics" | grep -F "$1" | awk '{print $2}'; }

echo "machine: $(nproc) cores, $(uname -sr), node $(node --version); $DURATION s per run, $CONNECTIONS connections"

"$TARGET/appsync-local" serve --project tests/projects/lambda --port 0 --data "$workdir/data" \
    >"$workdir/serve.out" 2>"$workdir/serve.err" &
pids+=($!)
url=$(url_from "$workdir/serve.out" '^listening on ')
base=${url%/graphql}

# Cold starts: the first call of each of eight Node functions starts its
# worker; the histogram measures spawn to the worker's first Runtime API
# call.
start=$(date +%s%N)
for field in 'fail(kind: \"none\")' 'echoEsm' 'context' 'add(a: 1, b: 2)' 'logs(name: \"x\")' \
    'crash(crash: false)' 'big(bytes: 10)' 'slow(ms: 0)'; do
    loadgen --url "$url" --once --body "{\"query\":\"{ $field }\"}" >/dev/null
done
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
sum=$(curl -s "$base/metrics" | grep '^appsync_lambda_cold_start_seconds_sum' | awk '{s+=$2} END {print s}')
count=$(curl -s "$base/metrics" | grep '^appsync_lambda_cold_start_seconds_count' | awk '{s+=$2} END {print s}')
echo "cold starts: $count workers, mean $(awk "BEGIN {printf \"%.1f\", $sum / $count * 1000}") ms from spawn to first poll; 8 first calls (each a cold start) took $elapsed_ms ms in all"

bench() {
    local name=$1
    shift
    printf '%-44s ' "$name"
    loadgen --connections "$CONNECTIONS" --duration "$DURATION" "$@"
}
none='{"query":"{ items(count: 1) { id } }"}'
direct='{"query":"{ fail(kind: \"none\") }"}'
bench "NONE resolver (ceiling)" --url "$url" --body "$none"
bench "warm direct Lambda resolver (Node.js)" --url "$url" --body "$direct"
bench "NONE resolver (again)" --url "$url" --body "$none"
bench "warm direct Lambda resolver (again)" --url "$url" --body "$direct"
echo "errors workers: $(metric 'appsync_lambda_workers{function="errors"}')"

before=$(metric 'appsync_lambda_invocations_total{function="batch"}')
loadgen --url "$url" --once --body '{"query":"{ items(count: 100) { value } }"}' >/dev/null
after=$(metric 'appsync_lambda_invocations_total{function="batch"}')
echo "100 items through Item.value (maxBatchSize 25): $((after - before)) invocations"
