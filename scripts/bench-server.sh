#!/usr/bin/env bash
# Load-tests the HTTP server beside a static axum endpoint serving the same
# bytes (the ceiling), in one run, and measures start-up to first response.
#
#   scripts/bench-server.sh                # fake service (examples/bench_server.rs)
#   SERVE=1 scripts/bench-server.sh        # also `appsync-local serve` on the demo project
#
# Tunables: DURATION (s, default 10), CONNECTIONS (default 32), THREADS
# (load generator threads, default 1), QUERY (set it to bench one query of
# your own project instead of the demo's set), PROJECT (the project to
# serve, default the demo at the repo root), API_KEY (x-api-key for SERVE=1),
# SETTLE (seconds to wait after start-up before measuring, default 5). Results go to stdout; copy them into docs/benchmarks.md.
set -euo pipefail

cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-1}
QUERY=${QUERY:-}
TARGET=${CARGO_TARGET_DIR:-target}/release

builds=(--example bench_server --example loadgen)
if [[ "${SERVE:-0}" == 1 ]]; then builds+=(--bin appsync-local); fi
cargo build --release "${builds[@]}"

loadgen() { "$TARGET/examples/loadgen" --threads "$THREADS" "$@"; }

source scripts/bench-common.sh

# Prints milliseconds from process start to the first 2xx response.
first_response_ms() {
    local start_ns=$1 url=$2
    shift 2
    until loadgen --url "$url" --once "$@" 2>/dev/null; do sleep 0.005; done
    echo $(( ($(date +%s%N) - start_ns) / 1000000 ))
}

body='{"query":"{ __typename }"}'
bench() {
    local name=$1
    shift
    printf '%-40s ' "$name"
    loadgen --connections "$CONNECTIONS" --duration "$DURATION" "$@"
}

echo "machine: $(nproc) cores, $(uname -sr); $DURATION s per run, $CONNECTIONS connections, $THREADS load generator thread(s)"

start_ns=$(date +%s%N)
"$TARGET/examples/bench_server" >"$workdir/bench.out" &
pids+=($!)
graphql_url=$(url_from "$workdir/bench.out" '^graphql ')
static_url=$(url_from "$workdir/bench.out" '^static ')
echo "bench_server: first response after $(first_response_ms "$start_ns" "$graphql_url" --body "$body") ms"

bench "static axum endpoint (ceiling)" --url "$static_url" --body "$body"
bench "server::app, trivial fake service" --url "$graphql_url" --body "$body"

"$TARGET/examples/bench_server" --log >"$workdir/bench-log.out" 2>/dev/null &
pids+=($!)
logged_url=$(url_from "$workdir/bench-log.out" '^graphql ')
bench "same, access log on (to /dev/null)" --url "$logged_url" --body "$body"

if [[ "${SERVE:-0}" == 1 ]]; then
    API_KEY=${API_KEY:-da2-flightcatalog-local}
    headers=(--header "x-api-key: $API_KEY")
    # The demo project's operations, one per storage path.
    names=("NONE + VTL (ping)" "GetItem (getFlight)" "GSI Query (getFlightBySchedule)" "search (searchFlights)")
    queries=(
        '{ ping }'
        '{ getFlight(id: \"FL00001\") { id departureCity arrivalCity ticketPrice } }'
        '{ getFlightBySchedule(departureAirportCode: \"LHR\", arrivalAirportCode: \"MXP\", departureDate: \"2026-12\", limit: 5) { items { id departureDate } } }'
        '{ searchFlights(text: \"frankfurt alps\", limit: 5) { id arrivalCity } }'
    )
    if [[ -n "$QUERY" ]]; then names=("$QUERY"); queries=("$QUERY"); fi
    rm -rf "$workdir/data"
    start_ns=$(date +%s%N)
    "$TARGET/appsync-local" serve --project "${PROJECT:-.}" --port 0 --data "$workdir/data" >"$workdir/serve.out" 2>/dev/null &
    pids+=($!)
    serve_url=$(url_from "$workdir/serve.out" '^listening on ')
    echo "appsync-local serve: first response after $(first_response_ms "$start_ns" "$serve_url" --body "$body" "${headers[@]}") ms (includes seeding an empty data directory)"
    # Seeding leaves tantivy merging segments in the background for a few
    # seconds; measuring during that steals a core from the server.
    sleep "${SETTLE:-5}"
    for i in "${!queries[@]}"; do
        query_body=$(printf '{"query":"%s"}' "${queries[$i]}")
        bench "serve: ${names[$i]}" --url "$serve_url" --body "$query_body" "${headers[@]}"
    done
fi
