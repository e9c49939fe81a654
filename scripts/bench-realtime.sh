#!/usr/bin/env bash
# The real-time endpoint on this machine: memory per idle connection and
# per subscription, delivery latency from a mutation's response to each of
# 10,000 subscribers, a mutation's own latency with and without them, and
# the fan-out cost of argument filtering against all-matching.
#
#   scripts/bench-realtime.sh
#
# Tunables: CONNECTIONS (default 1000), PER_CONNECTION (subscriptions per
# connection, default 10), MUTATIONS (default 20), BUCKETS (distinct
# argument values in the filtered run, default 100). The load generator
# (examples/bench_realtime.rs) runs on the same machine, over loopback.
set -euo pipefail

cd "$(dirname "$0")/.."
CONNECTIONS=${CONNECTIONS:-1000}
PER_CONNECTION=${PER_CONNECTION:-10}
MUTATIONS=${MUTATIONS:-20}
BUCKETS=${BUCKETS:-100}
TARGET=${CARGO_TARGET_DIR:-target}/release

cargo build --release --bin appsync-local --example bench_realtime

source scripts/bench-common.sh
echo "machine: $(nproc) cores, $(uname -sr)"
# Each side holds one descriptor per connection.
ulimit -n "$(ulimit -Hn)"

"$TARGET/appsync-local" serve --project tests/projects/realtime --port 0 --data "$workdir/data" \
    >"$workdir/serve.out" 2>"$workdir/serve.err" &
server=$!
pids+=($server)
url=$(url_from "$workdir/serve.out" '^listening on ')

"$TARGET/examples/bench_realtime" --url "$url" --key da2-realtime --server-pid "$server" \
    --connections "$CONNECTIONS" --per-connection "$PER_CONNECTION" \
    --mutations "$MUTATIONS" --buckets "$BUCKETS"
