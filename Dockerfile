# syntax=docker/dockerfile:1
# beetlewatch: build with the official Swift image, run on a slim Debian with only what the binary needs.

FROM swift:6.3-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libmicrohttpd-dev libcrypt-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Resolve dependencies first, so source edits do not refetch them.
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --product beetlewatch --static-swift-stdlib \
    && install -D .build/release/beetlewatch /out/beetlewatch

FROM debian:bookworm-slim
# libmicrohttpd serves HTTP; GnuTLS carries beetlewatch's HTTPS client (webhooks, Alertmanager) and its TLS;
# CA certificates for HTTPS.
RUN apt-get update && apt-get install -y --no-install-recommends libmicrohttpd12 libgnutls30 ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin beetlewatch
COPY --from=build /out/beetlewatch /usr/local/bin/beetlewatch
USER 10001:10001
EXPOSE 8125/udp 9917
# Liveness: the agent itself answers (an orchestrator must not restart the monitor because TigerBeetle is down);
# the check is the binary itself. Readiness (quorum) is `beetlewatch check` without --live.
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=3 CMD ["beetlewatch", "check", "--live"]
ENTRYPOINT ["beetlewatch"]
