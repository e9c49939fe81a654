#!/usr/bin/env bash
# The demo's benchmark suite in one command: builds the server, the load
# generator and the static ceiling, starts the demo on a fresh temporary data
# directory, and writes a table (req/s, p50, p99, errors, start-up time, peak
# RSS) into the marked section of docs/benchmarks.md. See examples/bench_demo.rs.
#
#   scripts/bench-demo.sh
#   DURATION=1 SETTLE=0 PROFILE=debug scripts/bench-demo.sh   # a quick check, table on stdout only
#
# Tunables: DURATION (s per scenario, default 10), CONNECTIONS (default 32),
# THREADS (load generator threads, default 1), SETTLE (s to wait after
# start-up, default 5), PROJECT (default the demo at the repo root),
# PROFILE (release or debug, default release), WRITE (1 writes
# docs/benchmarks.md; default 1 for release, 0 for debug).
set -euo pipefail

cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-1}
SETTLE=${SETTLE:-5}
PROFILE=${PROFILE:-release}

case "$PROFILE" in
    release) profile_flag=(--release); WRITE=${WRITE:-1} ;;
    debug) profile_flag=(); WRITE=${WRITE:-0} ;;
    *) echo "PROFILE must be release or debug" >&2; exit 2 ;;
esac
TARGET=${CARGO_TARGET_DIR:-target}/$PROFILE

cargo build "${profile_flag[@]}" --bin appsync-local \
    --example loadgen --example bench_server --example bench_demo

# The command as recorded in the table: only the settings that differ from the defaults.
recorded="scripts/bench-demo.sh"
[[ "$DURATION" != 10 ]] && recorded="DURATION=$DURATION $recorded"
[[ "$CONNECTIONS" != 32 ]] && recorded="CONNECTIONS=$CONNECTIONS $recorded"
[[ "$THREADS" != 1 ]] && recorded="THREADS=$THREADS $recorded"
[[ "$SETTLE" != 5 ]] && recorded="SETTLE=$SETTLE $recorded"

write=()
if [[ "$WRITE" == 1 ]]; then write=(--write docs/benchmarks.md); fi

exec "$TARGET/examples/bench_demo" \
    --bin "$TARGET/appsync-local" \
    --loadgen "$TARGET/examples/loadgen" \
    --bench-server "$TARGET/examples/bench_server" \
    --project "${PROJECT:-.}" \
    --duration "$DURATION" --connections "$CONNECTIONS" --threads "$THREADS" \
    --settle "$SETTLE" --build "$PROFILE" --command "$recorded" "${write[@]}"
