# syntax=docker/dockerfile:1
# The flight catalog demo in a slim image:
#   docker compose up            (see docker-compose.yml)
#   docker build -t appsync-local . && docker run -p 4000:4000 appsync-local
# To serve your own project, mount it and pass --project:
#   docker run -p 4000:4000 -v "$PWD:/project:ro" appsync-local \
#     serve --project /project --host 0.0.0.0 --port 4000 --data /data

# The toolchain of Cargo.toml's rust-version; tests/docker.rs keeps them in step.
FROM rust:1.90-slim-bookworm AS builder
WORKDIR /build

# Dependencies first, against stub sources, so that editing the crate does not
# rebuild them. Cargo reads every target Cargo.toml declares, hence benches/
# and examples/ (small, and rarely changed).
COPY Cargo.toml Cargo.lock ./
COPY benches benches
COPY examples examples
RUN mkdir src \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && cargo build --release --locked \
    && rm -rf src

COPY src src
# GraphiQL's files, embedded in the binary.
COPY assets assets
# COPY keeps the context's timestamps, which can be older than the stubs'.
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked \
    && cp target/release/appsync-local /usr/local/bin/appsync-local

FROM debian:bookworm-slim AS runtime
# Node.js runs the demo's Lambda handlers (functions/); nothing else needs it.
RUN apt-get update \
    && apt-get install -y --no-install-recommends nodejs \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin appsync \
    && mkdir -p /app /data \
    && chown appsync:appsync /data
COPY --from=builder /usr/local/bin/appsync-local /usr/local/bin/appsync-local
# The demo project: manifest, schema, resolvers and Lambda handlers (its seed
# data is generated).
COPY appsync.yaml schema.graphql /app/
COPY resolvers /app/resolvers
COPY functions /app/functions
WORKDIR /app
USER appsync
# Tables and indexes live here; a named volume keeps them across restarts.
VOLUME /data
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["appsync-local", "healthcheck", "--url", "http://127.0.0.1:4000/health"]
ENTRYPOINT ["appsync-local"]
CMD ["serve", "--project", "/app", "--host", "0.0.0.0", "--port", "4000", "--data", "/data"]
