#!/usr/bin/env bash
# Re-fetches the GraphiQL page's assets (GraphiQL, React, ReactDOM and their
# licences) from npm at the pinned versions into assets/graphiql/, which the
# server embeds at build time so GraphiQL works offline. Only this script
# needs npm; building and running the server never do.
#
#   scripts/update-graphiql.sh
#
# To upgrade, change the versions below and the matching macros at the top of
# src/server/graphiql.rs, run this script, then `cargo test --test graphiql`.
# GraphiQL must still ship a UMD build (`graphiql.min.js`): 5.x does not.
set -euo pipefail

GRAPHIQL=4.1.2
REACT=18.3.1

cd "$(dirname "$0")/.."
out=assets/graphiql
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The tarball's name is printed last; each unpacks into package/.
unpack() {
    local spec=$1 dir=$work/$2 tarball
    tarball=$(cd "$work" && npm pack --silent "$spec" | tail -n 1)
    mkdir -p "$dir"
    tar -xzf "$work/$tarball" -C "$dir" --strip-components=1
}

unpack "graphiql@$GRAPHIQL" graphiql
unpack "react@$REACT" react
unpack "react-dom@$REACT" react-dom

# Only npm's files go; auth-panel.js and realtime.js are ours.
find "$out" -maxdepth 1 -type f ! -name auth-panel.js ! -name realtime.js -delete 2>/dev/null || true
mkdir -p "$out"
cp "$work/graphiql/graphiql.min.js" "$out/graphiql-$GRAPHIQL.min.js"
cp "$work/graphiql/graphiql.min.css" "$out/graphiql-$GRAPHIQL.min.css"
cp "$work/graphiql/LICENSE" "$out/LICENSE.graphiql"
cp "$work/react/umd/react.production.min.js" "$out/react-$REACT.production.min.js"
cp "$work/react/LICENSE" "$out/LICENSE.react"
cp "$work/react-dom/umd/react-dom.production.min.js" "$out/react-dom-$REACT.production.min.js"
cp "$work/react-dom/LICENSE" "$out/LICENSE.react-dom"

ls -l "$out"
