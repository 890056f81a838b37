# erpbridge: one static binary; the command (api, worker, migrate, setup,
# codec-server, erpsim, healthcheck, version) is the container's argument.
#
# The Go image matches go.mod's go line (a test checks it). The runtime image
# is pinned by tag: no registry could be reached when this was written to read
# its digest. To pin it, replace the tag with the digest that
#   docker buildx imagetools inspect gcr.io/distroless/static-debian12:nonroot
# prints (FROM gcr.io/distroless/static-debian12:nonroot@sha256:...).

FROM golang:1.26.8 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# VERSION is stamped into the binary (`erpbridge version`); the build context
# has no .git, so the VCS stamp is off and this is the only one.
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
      -ldflags="-s -w -X github.com/erpbridge/erpbridge/internal/app.version=${VERSION}" \
      -o /out/erpbridge ./cmd/erpbridge \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/erpbridge /usr/local/bin/erpbridge
# /data holds the ERP simulator's file (and SQLite with STORE=sqlite); a
# volume mounted there inherits the nonroot owner.
COPY --from=build --chown=65532:65532 /out/data /data
WORKDIR /data
ENV SQLITE_PATH=/data/erpbridge.db \
    ERPSIM_DATA=/data/erpsim.jsonl
USER nonroot:nonroot
# 8080 webhooks, 9090 ADMIN_ADDR when set, 9091 a worker's /metrics,
# 8234 codec server, 8090 ERP simulator.
EXPOSE 8080 9090 9091 8234 8090
# Fits `api` (no shell or curl here: the binary checks itself). Other
# commands serve elsewhere; docker-compose.yml gives each its own check.
HEALTHCHECK --interval=10s --timeout=6s --start-period=20s --retries=3 CMD ["erpbridge", "healthcheck"]
ENTRYPOINT ["erpbridge"]
CMD ["api"]
