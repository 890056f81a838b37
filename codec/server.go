package codec

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"

	"go.temporal.io/sdk/converter"
)

// maxRequestBytes caps a codec request body. Temporal limits a single gRPC
// message to 4 MiB by default; JSON with base64 data grows that by a third, so
// 16 MiB leaves room without letting a client exhaust memory.
const maxRequestBytes = 16 << 20

// defaultAllowedOrigins are the origins of the Temporal dev server's Web UI.
func defaultAllowedOrigins() []string {
	return []string{"http://localhost:8233", "http://127.0.0.1:8233"}
}

// NewServer returns the HTTP handler of a Temporal remote codec server for c:
// POST .../encode and POST .../decode (only the last path segment counts, so it
// may be mounted under any prefix) and GET /healthz. The same codec serves all
// namespaces; the X-Namespace header is accepted but not used.
//
// When resolve is set, decoded payloads that hold a claim check get the
// stored callback beside it (see Resolver).
//
// Browsers may call it from allowedOrigins (exact scheme://host[:port] matches;
// empty means the local dev UI at port 8233); credentials are allowed, so "*"
// is not supported. When token is non-empty, every request except CORS
// preflights and /healthz must carry "Authorization: Bearer <token>".
func NewServer(c converter.PayloadCodec, token string, allowedOrigins []string, resolve Resolver) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	codecHandler := converter.NewPayloadCodecHTTPHandler(claimChecks{PayloadCodec: c, resolve: resolve})
	mux.Handle("POST /", requireToken(token, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxRequestBytes)
		codecHandler.ServeHTTP(w, r)
	})))
	return withCORS(allowedOrigins, mux)
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
// token is non-empty. Both sides are hashed before the constant-time compare
// so the comparison does not reveal the token's length either.
func requireToken(token string, next http.Handler) http.Handler {
	if token == "" {
		return next
	}
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, got, found := strings.Cut(r.Header.Get("Authorization"), " ")
		gotSum := sha256.Sum256([]byte(strings.TrimSpace(got)))
		if !found || !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare(gotSum[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="codec"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "missing or invalid bearer token"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// writeJSON writes v as a JSON response with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
