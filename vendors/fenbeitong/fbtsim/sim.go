// Package fbtsim is a stand-in for Fenbeitong's open API for car orders: the
// token endpoint, the signed car order list (with pages) and detail. It
// checks what Fenbeitong checks (app id and key, token validity and expiry,
// the MD5 sign, employee_id), answers in Fenbeitong's envelope
// {"request_id","code","msg","data"}, and counts what it was asked, so tests
// can see that a token was reused and that calls kept to a rate.
//
// It holds car orders as push-shaped JSON (order_info, price_info,
// user_info, ...), which a test or the development stack adds (AddOrder,
// BookedOrder) and moves on (SetStatus): an order pushed as booked (350) can
// later be listed as completed (700) with its final fare.
//
// It is a development tool: do not expose it.
package fbtsim

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Default paths, the same as package openapi's defaults.
const (
	DefaultTokenPath  = "/openapi/auth/getToken"
	DefaultListPath   = "/openapi/func/orders/car/list"
	DefaultDetailPath = "/openapi/func/orders/car/detail"
)

// DefaultTokenTTL is how long a token lives unless Options.TokenTTL says.
const DefaultTokenTTL = 2 * time.Hour

// Page sizes of the list, as Fenbeitong documents them.
const (
	DefaultPageSize = 30
	MaxPageSize     = 500
)

// MaxRequestBytes bounds a request body.
const MaxRequestBytes = 1 << 20

// Endpoint names what a request was for.
type Endpoint string

// The endpoints.
const (
	EndpointToken  Endpoint = "token"
	EndpointList   Endpoint = "list"
	EndpointDetail Endpoint = "detail"
	EndpointOther  Endpoint = "other" // any other path
)

// ExpireStyle is how the token answer writes data.expire_time.
type ExpireStyle int

// The expire_time styles.
const (
	ExpireSecondsFromNow ExpireStyle = iota // 7200
	ExpireEpochSeconds                      // 1714531200
	ExpireEpochMillis                       // 1714531200000
)

// Options configure a simulator. AppID, AppKey and SignKey are the
// credentials it accepts; zero fields take the defaults.
type Options struct {
	AppID   string
	AppKey  string
	SignKey string
	// TokenTTL is how long an issued token is accepted; default 2 hours.
	TokenTTL time.Duration
	// ExpireStyle is how the token answer writes expire_time.
	ExpireStyle ExpireStyle
	// TokenPath, ListPath and DetailPath are where the endpoints are served.
	TokenPath  string
	ListPath   string
	DetailPath string
	// ListSummary makes the list answer each order as a summary, its
	// order_info without price lines and without price_info and user_info,
	// as an API whose list leaves the details to the detail call would: a
	// client then has to fetch each order's detail.
	ListSummary bool
	// Now is the simulator's clock for token expiry and the payment time of
	// a completed order; default time.Now. Request times (Requests) are
	// always read from the wall clock.
	Now func() time.Time
}

// Request is one request the simulator answered.
type Request struct {
	// Endpoint is what the request was for.
	Endpoint Endpoint
	// At is when it arrived, by the wall clock.
	At time.Time
	// HTTPStatus is the answer's HTTP status.
	HTTPStatus int
	// Code is the answer's code: 0 success, 1 refusal; -1 when the answer
	// was not Fenbeitong's envelope (an injected failure, a wrong method).
	Code int
	// Msg is the answer's msg.
	Msg string
}

// Sim is the simulated open API. It is an http.Handler, safe for
// concurrent use.
type Sim struct {
	opts Options

	mu           sync.Mutex
	tokens       map[string]time.Time // token → expiry
	orders       map[string]*order
	seq          int
	requests     []Request
	calls        map[Endpoint]int
	tokensIssued int
	failNext     int
	failStatus   int
}

// New returns a simulator with no orders.
func New(o Options) *Sim {
	if o.TokenTTL <= 0 {
		o.TokenTTL = DefaultTokenTTL
	}
	o.TokenPath = cmp.Or(o.TokenPath, DefaultTokenPath)
	o.ListPath = cmp.Or(o.ListPath, DefaultListPath)
	o.DetailPath = cmp.Or(o.DetailPath, DefaultDetailPath)
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Sim{
		opts:   o,
		tokens: map[string]time.Time{},
		orders: map[string]*order{},
		calls:  map[Endpoint]int{},
	}
}

// ExpireTokens makes every token issued so far expired, as if their time
// had passed: a call with one is answered code 1, "access_token已过期".
func (s *Sim) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	for t := range s.tokens {
		s.tokens[t] = now
	}
}

// FailNext answers the next n requests, whatever their endpoint, with
// httpStatus and a plain-text body that is not Fenbeitong's envelope, as a
// gateway in front of Fenbeitong might.
func (s *Sim) FailNext(n, httpStatus int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext, s.failStatus = n, httpStatus
}

// Calls returns how many requests reached an endpoint, refused ones
// included.
func (s *Sim) Calls(e Endpoint) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[e]
}

// TokensIssued returns how many tokens the token endpoint has issued.
func (s *Sim) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokensIssued
}

// IssuedTokens returns the tokens issued so far, for a test that checks
// none was written where it must not be.
func (s *Sim) IssuedTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	tokens := make([]string, 0, len(s.tokens))
	for t := range s.tokens {
		tokens = append(tokens, t)
	}
	return tokens
}

// Requests returns every request answered so far, in order of arrival.
func (s *Sim) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// issueToken makes a new token; the caller holds s.mu.
func (s *Sim) issueToken() (token string, expireTime int64) {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails
	token = "sim-" + hex.EncodeToString(b[:])
	now := s.opts.Now()
	expiry := now.Add(s.opts.TokenTTL)
	s.tokens[token] = expiry
	s.tokensIssued++
	switch s.opts.ExpireStyle {
	case ExpireEpochSeconds:
		return token, expiry.Unix()
	case ExpireEpochMillis:
		return token, expiry.UnixMilli()
	default:
		return token, int64(s.opts.TokenTTL / time.Second)
	}
}

// checkToken says why a token is refused, or "" when it is accepted; the
// caller holds s.mu.
func (s *Sim) checkToken(token string) string {
	expiry, ok := s.tokens[token]
	switch {
	case !ok:
		return "access_token无效"
	case !s.opts.Now().Before(expiry):
		return "access_token已过期"
	default:
		return ""
	}
}

// requestID returns the id of an answer; the caller holds s.mu.
func (s *Sim) requestID() string {
	return fmt.Sprintf("sim-%08d", len(s.requests)+1)
}

// answer is Fenbeitong's envelope.
type answer struct {
	RequestID string `json:"request_id"`
	Code      int    `json:"code"`
	Msg       string `json:"msg"`
	Data      any    `json:"data"`
}

// failure is a refusal with code 1 and msg.
func failure(msg string) answer { return answer{Code: 1, Msg: msg} }

// success is code 0 with data.
func success(data any) answer { return answer{Code: 0, Msg: "success", Data: data} }

// pageData is the data of a list answer.
type pageData struct {
	TotalCount int               `json:"total_count"`
	PageIndex  int               `json:"page_index"`
	PageSize   int               `json:"page_size"`
	TotalPages int               `json:"total_pages"`
	Results    []json.RawMessage `json:"results"`
}
