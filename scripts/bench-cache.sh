#!/usr/bin/env bash
# The server-side cache under load: the same query (the demo's getFlight)
# served uncached, from the resolver cache and from the operation cache,
# beside the static axum endpoint of examples/bench_server.rs (the ceiling),
# then the cache's memory under a load of distinct keys
# (examples/cache_memory.rs).
#
#   scripts/bench-cache.sh
#
# The four endpoints run at once and are measured in interleaved rounds
# (static, uncached, resolver, operation, then again), so every ratio
# compares runs a few seconds apart that saw the same background load; the
# summary gives medians over the rounds.
#
# Tunables: ROUNDS (default 5), DURATION (s per endpoint and round, default
# 4), CONNECTIONS (default 32), SETTLE (s after start-up, default 15),
# MEMORY_KEYS (distinct keys for the memory run, default 300000),
# MEMORY_BUDGET_MIB (default 16). Results go to stdout; copy them into
# docs/benchmarks.md.
set -euo pipefail

cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-4}
CONNECTIONS=${CONNECTIONS:-32}
TARGET=${CARGO_TARGET_DIR:-target}/release
API_KEY=da2-flightcatalog-local
QUERY='{ getFlight(id: \"FL00001\") { id departureCity arrivalCity ticketPrice } }'

cargo build --release --example bench_server --example loadgen --example cache_memory --bin appsync-local

source scripts/bench-common.sh
work=$workdir

# Three copies of the demo project: its own caching block removed
# (uncached), as it is (PER_RESOLVER_CACHING on Query.getFlight), and with
# OPERATION_LEVEL_CACHING. TTLs of 3600 s outlast the run.
variants=(uncached resolver operation)
for variant in "${variants[@]}"; do
    mkdir -p "$work/$variant"
    cp -r appsync.yaml schema.graphql resolvers seed "$work/$variant/"
done
sed -i '/^caching:/,/^[^ ]/{/^caching:/d;/^  /d}' "$work/uncached/appsync.yaml"
sed -i 's/^  ttl: [0-9]*/  ttl: 3600/; s/^      ttl: [0-9]*/      ttl: 3600/' "$work/resolver/appsync.yaml"
sed -i 's/^  behavior: PER_RESOLVER_CACHING/  behavior: OPERATION_LEVEL_CACHING/; s/^  ttl: [0-9]*/  ttl: 3600/' \
    "$work/operation/appsync.yaml"

declare -A urls
for variant in "${variants[@]}"; do
    # Default logging: one access-log line per request, to stderr.
    "$TARGET/appsync-local" serve --project "$work/$variant" --port 0 --data "$work/$variant/data" \
        >"$work/$variant.out" 2>/dev/null &
    pids+=($!)
    urls[$variant]=$(url_from "$work/$variant.out" '^listening on ')
done
# Seeding leaves tantivy merging segments for a few seconds, three times
# over here: with 5 s the first rounds still shared the cores with it.
sleep "${SETTLE:-15}"
body=$(printf '{"query":"%s"}' "$QUERY")
# The static endpoint sends the very bytes the query's answer has.
response=$(curl -sf "${urls[operation]}" -H 'content-type: application/json' -H "x-api-key: $API_KEY" -d "$body")
"$TARGET/examples/bench_server" --static-body "$response" >"$work/bench.out" &
pids+=($!)
urls[static]=$(url_from "$work/bench.out" '^static ')
echo "response (${#response} bytes): $response"

echo "machine: $(nproc) cores, $(uname -sr); $ROUNDS rounds of $DURATION s per endpoint, $CONNECTIONS connections, 1 load generator thread"
results="$work/results"
for round in $(seq 1 "$ROUNDS"); do
    for name in static "${variants[@]}"; do
        line=$("$TARGET/examples/loadgen" --url "${urls[$name]}" --body "$body" \
            --header "x-api-key: $API_KEY" --connections "$CONNECTIONS" --duration "$DURATION")
        printf 'round %s %-9s %s\n' "$round" "$name" "$line"
        echo "$round $name $line" >>"$results"
    done
done

# Medians over the rounds: req/s, p50, p99, and the ratio to the static
# endpoint of the same round.
echo
printf '%-10s %10s %9s %9s %9s\n' endpoint "req/s" p50 p99 "vs static"
awk '
    function median(list,    n, a, i, j, t) {
        n = split(list, a, " ")
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    {
        round = $1; name = $2
        for (i = 3; i <= NF; i++) {
            if ($(i + 1) == "req/s,") rps = $i
            if ($i == "p50") p50 = $(i + 1)
            if ($i == "p99") p99 = $(i + 1)
        }
        if (name == "static") base[round] = rps
        r[name] = r[name] " " rps; a[name] = a[name] " " p50; b[name] = b[name] " " p99
        ratio[name] = ratio[name] " " rps / base[round]
        if (!(name in seen)) { seen[name] = 1; order[++count] = name }
    }
    END {
        for (k = 1; k <= count; k++) {
            n = order[k]
            printf "%-10s %10.0f %6.2f ms %6.2f ms %9.2f\n", n, median(r[n]), median(a[n]), median(b[n]), median(ratio[n])
        }
    }
' "$results"

echo
echo "memory: a budget nothing reaches (calibration: real memory per weighted byte)"
"$TARGET/examples/cache_memory" --budget-mib 4096 --keys 100000 | tail -1
echo "memory: distinct keys at a small budget"
"$TARGET/examples/cache_memory" --budget-mib "${MEMORY_BUDGET_MIB:-16}" --keys "${MEMORY_KEYS:-300000}"
