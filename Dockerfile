# erpbridge: one static binary; the command (api, worker, codec-server, erpsim,
# migrate, setup) is the container's argument.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags="-s -w" -o /out/erpbridge ./cmd/erpbridge \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/erpbridge /usr/local/bin/erpbridge
# /data holds the ERP simulator's file (and SQLite when MYSQL_DSN is unset);
# a volume mounted there inherits the nonroot owner.
COPY --from=build --chown=65532:65532 /out/data /data
WORKDIR /data
ENV SQLITE_PATH=/data/erpbridge.db \
    ERPSIM_DATA=/data/erpsim.jsonl
USER nonroot:nonroot
EXPOSE 8080 8090 8234
ENTRYPOINT ["erpbridge"]
CMD ["api"]
