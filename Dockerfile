# rowtide as one static-ish binary on a slim base image.
FROM rust:1.85-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends cmake libssl-dev pkg-config && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY schemas ./schemas
COPY benches ./benches
RUN cargo build --release --locked --bin rowtide

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates libssl3 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/rowtide /usr/local/bin/rowtide
RUN mkdir -p /var/lib/rowtide
EXPOSE 9187
ENTRYPOINT ["/usr/local/bin/rowtide"]
CMD ["run", "-c", "/etc/rowtide/rowtide.toml"]
