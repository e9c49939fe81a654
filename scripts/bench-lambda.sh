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
metric() { curl -s "$base/metrics" | grep -F "$1 " | grep -v '^#' | awk '{print $2}'; }

echo "machine: $(nproc) cores, $(uname -sr), node $(node --version); $DURATION s per run, $CONNECTIONS connections"

"$TARGET/appsync-local" serve --project tests/projects/lambda --port 0 --data "$workdir/data" \
    >"$workdir/serve.out" 2>"$workdir/serve.err" &
pids+=($!)
url=$(url_from "$workdir/serve.out" '^listening on ')
base=${url%/graphql}

# Cold starts: the first call of a function starts its worker. The first
# Node.js cold start of the server starts a process from scratch; later ones
# take the spare worker (an interpreter started ahead), so they cost the
# handler's load. The histogram measures from the worker getting its
# function to its first Runtime API poll. `node -e 0` is Node's own start
# on this machine, for scale.
cold_mean() {
    curl -s "$base/metrics" | awk -v f="$1" '
        index($0, "appsync_lambda_cold_start_seconds_sum{function=\"" f "\"}") == 1 {s = $2}
        index($0, "appsync_lambda_cold_start_seconds_count{function=\"" f "\"}") == 1 {c = $2}
        END {printf "%.1f", s / c * 1000}'
}
start=$(date +%s%N)
for _ in 1 2 3 4 5; do node -e 0; done
echo "node -e 0: $(( ($(date +%s%N) - start) / 5000000 )) ms (mean of 5)"
# `context` has provisionedConcurrency: 1, so its worker started with the
# server, from a new process (and started the first spare).
until curl -s "$base/metrics" | grep -q '^appsync_lambda_cold_start_seconds_count{function="context"} 1'; do sleep 0.01; done
echo "cold start from a new process (context's provisioned worker): $(cold_mean context) ms"
for pair in 'fail(kind: \"none\")=errors' 'echoEsm=echoEsm' 'add(a: 1, b: 2)=callback' 'logs(name: \"x\")=logs' \
    'crash(crash: false)=crash' 'big(bytes: 10)=big' 'slow(ms: 0)=slow'; do
    field=${pair%=*}
    function=${pair##*=}
    until curl -s "$base/metrics" | grep -q '^appsync_lambda_spare_workers 1'; do sleep 0.01; done
    loadgen --url "$url" --once --body "{\"query\":\"{ $field }\"}" >/dev/null
    printf 'cold start of %s (took the spare): %s ms\n' "$function" "$(cold_mean "$function")"
done

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
