# Shared by the benchmark scripts (sourced, not run): the processes to stop
# and the scratch directory to remove on exit, and reading a URL from a
# server's output.

workdir=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    # A server still flushing its data directory would race the removal.
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$workdir"
}
trap cleanup EXIT

# Waits for a line matching $2 in file $1 and prints its URL.
url_from() {
    for _ in $(seq 1 1000); do
        if line=$(grep -m1 "$2" "$1" 2>/dev/null); then
            echo "$line" | grep -o 'http://[^ ]*'
            return 0
        fi
        sleep 0.01
    done
    echo "no '$2' line in $1" >&2
    return 1
}
