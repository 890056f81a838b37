package codec

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"go.temporal.io/sdk/converter"
)

// Defaults of ServerOptions (and of CODEC_MAX_BODY_BYTES, CODEC_READ_TIMEOUT
// and CODEC_WRITE_TIMEOUT).
const (
	// DefaultMaxBodyBytes caps a codec request body. Temporal limits a
	// single gRPC message to 4 MiB by default; JSON with base64 data grows
	// that by a third, so 16 MiB leaves room without letting a client
	// exhaust memory.
	DefaultMaxBodyBytes = 16 << 20
	// DefaultReadTimeout bounds the arrival of a request's headers and body:
	// the Web UI sends a page of payloads, and even 16 MiB arrives in it at
	// about 5 Mbit/s.
	DefaultReadTimeout = 30 * time.Second
	// DefaultWriteTimeout bounds a request from the end of its headers to
	// the end of its answer: the body's arrival, decoding and the claim
	// checks' look-ups.
	DefaultWriteTimeout = time.Minute
)

// Fixed limits of the codec server.
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 90 * time.Second
	// maxHeaderBytes leaves room for a single-sign-on proxy's cookies and tokens.
	maxHeaderBytes = 64 << 10
)

// defaultAllowedOrigins are the origins of the Temporal dev server's Web UI.
func defaultAllowedOrigins() []string {
	return []string{"http://localhost:8233", "http://127.0.0.1:8233"}
}

// ServerOptions configure the codec server; zero values take the defaults.
type ServerOptions struct {
	// Token, when non-empty, must be sent as "Authorization: Bearer <token>".
	Token string
	// AllowedOrigins may call the server from a browser (empty: the local dev UI).
	AllowedOrigins []string
	// Resolve, when set, shows the stored callback beside a claim check.
	Resolve Resolver
	// MaxBodyBytes caps a request body (DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// ReadTimeout bounds the arrival of a request's headers and body (DefaultReadTimeout).
	ReadTimeout time.Duration
	// WriteTimeout bounds a request from the end of its headers to the end
	// of its answer (DefaultWriteTimeout); it must exceed ReadTimeout.
	WriteTimeout time.Duration
	// Logger receives the errors the answers leave out (nil: discarded).
	Logger *slog.Logger
}

func (o ServerOptions) withDefaults() ServerOptions {
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = DefaultReadTimeout
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = max(DefaultWriteTimeout, 2*o.ReadTimeout)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// NewHTTPServer is the codec server for c listening on addr: NewHandler
// with read, write and idle timeouts, so a client that sends slowly, or
// not at all, holds a connection for ReadTimeout at most.
func NewHTTPServer(addr string, c converter.PayloadCodec, o ServerOptions) *http.Server {
	o = o.withDefaults()
	return &http.Server{
		Addr:              addr,
		Handler:           NewHandler(c, o),
		ReadHeaderTimeout: min(readHeaderTimeout, o.ReadTimeout),
		ReadTimeout:       o.ReadTimeout,
		WriteTimeout:      o.WriteTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
}

// NewServer is NewHandler with the default limits.
func NewServer(c converter.PayloadCodec, token string, allowedOrigins []string, resolve Resolver) http.Handler {
	return NewHandler(c, ServerOptions{Token: token, AllowedOrigins: allowedOrigins, Resolve: resolve})
}

// NewHandler returns the HTTP handler of a Temporal remote codec server for
// c: POST .../encode and POST .../decode (only the last path segment counts,
// so it may be mounted under any prefix) and GET /healthz. The same codec
// serves all namespaces; the X-Namespace header is accepted but not used.
//
// When o.Resolve is set, decoded payloads that hold a claim check get the
// stored callback beside it (see Resolver).
//
// Browsers may call it from o.AllowedOrigins (exact scheme://host[:port]
// matches; empty means the local dev UI at port 8233); credentials are
// allowed, so "*" is not supported. When o.Token is non-empty, every request
// except CORS preflights and /healthz must carry "Authorization: Bearer
// <token>", checked before any of the body is read.
//
// Answers name no socket address: a body that does not arrive in time gets
// 408, one over o.MaxBodyBytes 413, and the underlying error goes to o.Logger.
func NewHandler(c converter.PayloadCodec, o ServerOptions) http.Handler {
	o = o.withDefaults()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	codecHandler := converter.NewPayloadCodecHTTPHandler(claimChecks{PayloadCodec: c, resolve: o.Resolve})
	mux.Handle("POST /", requireToken(o.Token, readBody(o, codecHandler)))
	return withCORS(o.AllowedOrigins, mux)
}

// withCORS answers preflights and adds CORS headers for allowed origins.
// Preflights get 200 without authentication; a browser only proceeds when the
// allow headers are present, which they are for allowed origins alone.
func withCORS(origins []string, next http.Handler) http.Handler {
	allowed := make(map[string]bool)
	for _, o := range origins {
		o = strings.ToLower(strings.TrimRight(strings.TrimSpace(o), "/"))
		if o != "" {
			allowed[o] = true
		}
	}
	if len(allowed) == 0 {
		for _, o := range defaultAllowedOrigins() {
			allowed[o] = true
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Add("Vary", "Origin")
		origin := r.Header.Get("Origin")
		ok := origin != "" && allowed[strings.ToLower(origin)]
		if ok {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
		}
		if r.Method == http.MethodOptions {
			if ok {
				h.Set("Access-Control-Allow-Methods", "POST, GET, OPTIONS")
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Namespace")
				h.Set("Access-Control-Max-Age", "600")
			}
			w.WriteHeader(http.StatusOK)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// requireToken rejects requests without "Authorization: Bearer <token>" when
// token is non-empty, before any of the body is read: the answer closes the
// connection and drops the body unread.
func requireToken(token string, next http.Handler) http.Handler {
	if token == "" {
		return next
	}
	want := tokenDigest(token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, got, found := strings.Cut(r.Header.Get("Authorization"), " ")
		ok := tokenMatches(strings.TrimSpace(got), want)
		if !found || !strings.EqualFold(scheme, "Bearer") || !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="codec"`)
			refuseUnread(w, http.StatusUnauthorized, "missing or invalid bearer token")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// tokenDigest is what a token is compared by.
func tokenDigest(token string) [sha256.Size]byte { return sha256.Sum256([]byte(token)) }

// tokenMatches compares fixed-length digests in constant time, so the time
// taken says nothing of the token's length or of a common prefix
// (subtle.ConstantTimeCompare on inputs of unequal length returns at once).
func tokenMatches(got string, want [sha256.Size]byte) bool {
	sum := tokenDigest(got)
	return subtle.ConstantTimeCompare(sum[:], want[:]) == 1
}

// readBody reads the body of an encode or decode request within the limits
// before the codec handler sees it, so the answer to a body that is too
// large or too slow is specific and names no socket address.
func readBody(o ServerOptions, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/encode") && !strings.HasSuffix(r.URL.Path, "/decode") {
			refuseUnread(w, http.StatusNotFound, "not found: POST .../encode or .../decode")
			return
		}
		if r.ContentLength > o.MaxBodyBytes {
			refuseUnread(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", o.MaxBodyBytes))
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, o.MaxBodyBytes))
		if err != nil {
			var tooBig *http.MaxBytesError
			var ne net.Error
			switch {
			case errors.As(err, &tooBig):
				refuseUnread(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", o.MaxBodyBytes))
			case errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
				o.Logger.Warn("codec request body not received in time", "error", err)
				refuseUnread(w, http.StatusRequestTimeout, fmt.Sprintf("request body was not received within %s", o.ReadTimeout))
			default:
				o.Logger.Warn("codec request body could not be read", "error", err)
				refuseUnread(w, http.StatusBadRequest, "request body could not be read: the connection broke off or the body's encoding is invalid")
			}
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

// refuseUnread answers with a JSON error and closes the connection without
// reading what is left of the body: the server would otherwise read up to
// 256 KiB of it, waiting on a slow client, to keep the connection open.
func refuseUnread(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Connection", "close")
	writeJSON(w, status, map[string]string{"error": msg})
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	// An expired read deadline ends the server's drain of the body at once.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now())
}

// writeJSON writes v as a JSON response with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
