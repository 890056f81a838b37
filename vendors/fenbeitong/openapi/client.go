package openapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/erpbridge/erpbridge/internal/reason"
	"github.com/erpbridge/erpbridge/vendors/lenient"
)

// maxAnswerBytes bounds an answer: a list page of 500 orders is a few MiB.
const maxAnswerBytes = 64 << 20

// Client calls Fenbeitong's open API. It is safe for concurrent use: all its
// callers share one access token, one token fetch at a time, and one rate
// limit.
type Client struct {
	cfg     Config
	base    string
	http    *http.Client
	limiter *rate.Limiter
	now     func() time.Time

	mu        sync.Mutex
	token     string
	refreshAt time.Time   // fetch a new token from then on
	fetching  *tokenFetch // the token fetch in flight, nil when none
}

// tokenFetch is one token fetch that concurrent callers wait for.
type tokenFetch struct {
	done  chan struct{} // closed when token and err are set
	token string
	err   error
}

// Option sets how a Client makes its calls.
type Option func(*http.Client)

// WithTransport makes the calls through rt (the tracing's transport, a
// test's), instead of http.DefaultTransport. The token and the sign travel
// in the form, never in the URL a transport may record.
func WithTransport(rt http.RoundTripper) Option {
	return func(c *http.Client) { c.Transport = rt }
}

// New returns a client for cfg, its zero fields set to the defaults, or the
// problems of the config (see Config.Validate). Calls are paced to cfg.RPS
// with a burst of 1: no more than RPS+1 calls fall in any one second.
// Redirects are not followed.
func New(cfg Config, opts ...Option) (*Client, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("fenbeitong open API configuration: %w", err)
	}
	hc := &http.Client{
		Timeout: cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	for _, o := range opts {
		o(hc)
	}
	return &Client{
		cfg:     cfg,
		base:    strings.TrimRight(cfg.URL, "/"),
		http:    hc,
		limiter: rate.NewLimiter(rate.Limit(cfg.RPS), 1),
		now:     time.Now,
	}, nil
}

// Config returns the client's configuration, defaults applied. Its text and
// JSON forms redact the secrets.
func (c *Client) Config() Config { return c.cfg }

// String describes the client without its secrets or token.
func (c *Client) String() string { return "openapi.Client{" + c.cfg.String() + "}" }

// Format prints String for every verb, so no verb prints the client's
// fields (the secrets, the token) through reflection.
func (c *Client) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

// call makes one signed call with the shared token. When Fenbeitong refuses
// the token, the token is dropped, one new token is fetched (shared with
// every caller that found the same token refused) and the call is made once
// more. It returns the answer's data.
func (c *Client) call(ctx context.Context, name, path string, data []byte) (json.RawMessage, error) {
	token, err := c.accessToken(ctx)
	if err != nil {
		return nil, err
	}
	out, e := c.signedCall(ctx, name, path, data, token)
	if e == nil {
		return out, nil
	}
	if !refusesToken(e.HTTPStatus, e.HasCode, e.Msg) {
		return nil, e
	}
	c.dropToken(token)
	if token, err = c.accessToken(ctx); err != nil {
		return nil, err
	}
	out, e = c.signedCall(ctx, name, path, data, token)
	if e == nil {
		return out, nil
	}
	if refusesToken(e.HTTPStatus, e.HasCode, e.Msg) {
		// A token fresh from Fenbeitong was refused: its side, or a clock,
		// is off for now; nothing in the call itself is wrong.
		e.TokenRefused = true
		e.Retryable = true
		e.Reason = "Fenbeitong refused a freshly fetched access token too"
	}
	return nil, e
}

// signedCall posts one signed form and returns the answer's data.
func (c *Client) signedCall(ctx context.Context, name, path string, data []byte, token string) (json.RawMessage, *Error) {
	ts := Timestamp(c.now())
	form := signedForm(ts, string(data), c.cfg.SignKey, token, c.cfg.EmployeeID, c.cfg.EmployeeType)
	return c.post(ctx, name, path, "application/x-www-form-urlencoded", []byte(form.Encode()), token)
}

// post sends one call after the rate limiter allows it and reads Fenbeitong's
// envelope; the result is the envelope's data when its code is 0.
func (c *Client) post(ctx context.Context, name, path, contentType string, body []byte, token string) (json.RawMessage, *Error) {
	fail := func(e *Error) *Error {
		e.Call = name
		e.Msg = c.scrub(reason.Clip(e.Msg, maxMsgBytes), token)
		e.Reason = c.scrub(e.Reason, token)
		return e
	}
	if err := c.limiter.Wait(ctx); err != nil {
		return nil, fail(&Error{Retryable: true, Reason: "not sent: waiting for the rate limit: " + err.Error(), Err: err})
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, fail(&Error{Reason: "cannot build the request: " + err.Error(), Err: err})
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "erpbridge")

	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fail(c.transportError(ctx, err))
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	if err != nil {
		e := c.transportError(ctx, err)
		e.HTTPStatus = resp.StatusCode
		e.Reason = "answer cut short: " + e.Reason
		return nil, fail(e)
	}
	if len(answer) > maxAnswerBytes {
		return nil, fail(&Error{HTTPStatus: resp.StatusCode, Reason: fmt.Sprintf("answer longer than %d bytes", maxAnswerBytes)})
	}

	env, understood := parseEnvelope(answer)
	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300 && understood && env.code == 0:
		return env.data, nil
	case code >= 200 && code < 300 && understood:
		return nil, fail(&Error{HTTPStatus: code, HasCode: true, Code: env.code, Msg: env.msg, Retryable: saysBusy(env.msg)})
	case code >= 200 && code < 300:
		return nil, fail(&Error{HTTPStatus: code, Retryable: true,
			Reason: "answer is not Fenbeitong's JSON envelope with a code: " + fingerprint(answer)})
	}
	e := &Error{HTTPStatus: code}
	if understood && env.code != 0 {
		e.HasCode, e.Code, e.Msg = true, env.code, env.msg
	} else {
		e.Reason = fingerprint(answer)
	}
	switch {
	case code == http.StatusRequestTimeout, code == http.StatusTooManyRequests, code >= 500 && code < 600:
		e.Retryable = true
	case code >= 400 && code < 500:
		e.Retryable = e.HasCode && saysBusy(e.Msg)
	default:
		// 1xx, 3xx and non-standard codes: something other than Fenbeitong
		// answered (a proxy, a redirect); try again rather than give up.
		e.Retryable = true
		e.Reason = "unexpected answer outside the API's contract: " + fingerprint(answer)
	}
	return nil, fail(e)
}

// transportError classifies a call that got no (whole) answer: retryable.
func (c *Client) transportError(ctx context.Context, err error) *Error {
	return &Error{Retryable: true, Err: err, Reason: reason.Transport(ctx, err, c.cfg.Timeout)}
}

// scrub replaces the client's secrets and the call's token in text.
func (c *Client) scrub(text, token string) string {
	if text == "" {
		return text
	}
	for _, s := range []string{c.cfg.AppKey, c.cfg.SignKey, token} {
		if s != "" {
			text = strings.ReplaceAll(text, s, redacted)
		}
	}
	return text
}

// envelope is an answer {"code":..,"msg":..,"data":..}.
type envelope struct {
	code int64
	msg  string
	data json.RawMessage
}

// parseEnvelope reads an answer; understood is false when it is not a JSON
// object with an integer code (a number or a string holding one).
func parseEnvelope(answer []byte) (env envelope, understood bool) {
	var raw struct {
		Code lenient.Int     `json:"code"`
		Msg  json.RawMessage `json:"msg"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(answer, &raw); err != nil || !raw.Code.Valid {
		return envelope{}, false
	}
	env = envelope{code: raw.Code.Value, data: raw.Data}
	if err := json.Unmarshal(raw.Msg, &env.msg); err != nil {
		env.msg = string(raw.Msg) // not a string: its JSON text
	}
	return env, true
}
