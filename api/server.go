package api

import (
	"net/http"
	"time"

	"github.com/erpbridge/erpbridge/config"
)

// Limits of the api's HTTP servers.
const (
	// maxHeaderBytes caps a request's headers: a vendor sends a handful and
	// a proxy adds a few more.
	maxHeaderBytes = 64 << 10
	// readHeaderTimeout bounds the headers alone (never more than the read timeout).
	readHeaderTimeout = 10 * time.Second
	// idleTimeout closes a keep-alive connection left idle this long. It is
	// longer than the 60 s idle timeout of common load balancers, so the
	// balancer closes an idle connection first and never sends a request on
	// one erpbridge is closing.
	idleTimeout = 90 * time.Second
	// writeMargin is what the webhook port's write timeout leaves beyond the
	// body's arrival and the store's write: the vendor's checks and the answer.
	writeMargin = 5 * time.Second
	// adminReadTimeout and adminWriteTimeout bound a request to /readyz or
	// /metrics on their own port: neither has a body, readiness gives its
	// checks 3 s, and a scrape is quick.
	adminReadTimeout  = 10 * time.Second
	adminWriteTimeout = 30 * time.Second
)

// NewServer is the HTTP server of the webhook port (HTTP_ADDR) for h,
// normally NewRouter's engine.
//
// The read timeout (HTTP_READ_TIMEOUT) cuts off a sender whose headers and
// body have not arrived in time; such a sender is answered 408. The write
// timeout counts from the end of the headers and is longer than the longest
// normal answer (the body's arrival, the store's write within
// EDGE_STORE_TIMEOUT, a workflow start within EDGE_TEMPORAL_TIMEOUT when the
// store could not take it, then a margin), so it only ends a connection
// whose client does not take its answer. A request in flight at SIGTERM gets DRAIN_WINDOW and then
// SHUTDOWN_TIMEOUT, 15 s by default, which covers that normal answer too.
func NewServer(cfg config.Config, h http.Handler) *http.Server {
	read := cfg.HTTP.ReadTimeout
	return &http.Server{
		Addr:              cfg.HTTP.Addr,
		Handler:           h,
		ReadHeaderTimeout: min(readHeaderTimeout, read),
		ReadTimeout:       read,
		WriteTimeout:      read + cfg.HTTP.StoreTimeout + cfg.HTTP.TemporalTimeout + writeMargin,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
}

// NewAdminServer is the HTTP server of an address that serves only
// /healthz, /readyz and /metrics (ADMIN_ADDR, or a worker's METRICS_ADDR).
func NewAdminServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       adminReadTimeout,
		WriteTimeout:      adminWriteTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
}
