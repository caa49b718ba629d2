# rowtide on Debian 12 slim. The binary links only glibc and libgcc_s (OpenSSL, zlib and
# libcurl are built in; see the README); ca-certificates gives TLS the system trust store. The builder's Rust version is the highest `rust-version` of any crate in
# Cargo.lock (tests/packaging.rs computes it with `cargo metadata` and checks this line).
FROM rust:1.89-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends cmake perl pkg-config && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY schemas ./schemas
COPY benches ./benches
RUN cargo build --release --locked --bin rowtide

FROM debian:bookworm-slim
# A fixed, unprivileged user (uid/gid 10001) that owns the state directory; Kubernetes'
# securityContext in deploy/kubernetes uses the same ids.
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 rowtide \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /var/lib/rowtide \
       --shell /usr/sbin/nologin rowtide \
    && mkdir -p /var/lib/rowtide /etc/rowtide \
    && chown 10001:10001 /var/lib/rowtide
COPY --from=build /src/target/release/rowtide /usr/local/bin/rowtide
# The example configuration (metrics on 0.0.0.0:9187 so that the port below answers);
# mount your own over it, or override keys with ROWTIDE_<SECTION>__<KEY>.
COPY examples/rowtide.toml /etc/rowtide/rowtide.toml
USER 10001:10001
VOLUME ["/var/lib/rowtide"]
EXPOSE 9187
# No curl in the slim image: rowtide asks its own /readyz (exit 0 on 2xx, 1 otherwise).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["/usr/local/bin/rowtide", "probe", "--url", "http://127.0.0.1:9187/readyz", "--timeout-ms", "3000"]
ENTRYPOINT ["/usr/local/bin/rowtide"]
CMD ["run", "-c", "/etc/rowtide/rowtide.toml"]
