package erp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/erpbridge/erpbridge/internal/reason"
)

// maxReasonBytes bounds how much of an error answer is read for its reason.
const maxReasonBytes = 4 << 10

// maxDrainBytes bounds how much of an answer is discarded so the connection
// can be reused; a longer answer just closes the connection.
const maxDrainBytes = 64 << 10

// Client posts records to the ERP.
type Client struct {
	endpoint string
	token    string
	timeout  time.Duration
	http     *http.Client
}

// ClientOption changes how NewClient builds a Client.
type ClientOption func(*http.Client)

// WithTransport sends the calls through rt (default: http.DefaultTransport),
// e.g. one that traces each call.
func WithTransport(rt http.RoundTripper) ClientOption {
	return func(hc *http.Client) { hc.Transport = rt }
}

// NewClient returns a client for the ERP at baseURL (a trailing slash is
// tolerated) that sends token as a bearer token and gives up on one call
// after timeout. Redirects are not followed: a POST must reach the ERP itself.
func NewClient(baseURL, token string, timeout time.Duration, opts ...ClientOption) *Client {
	hc := &http.Client{
		Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	for _, o := range opts {
		o(hc)
	}
	return &Client{
		endpoint: strings.TrimRight(baseURL, "/") + "/records",
		token:    token,
		timeout:  timeout,
		http:     hc,
	}
}

// Result describes a record the ERP holds after Send.
type Result struct {
	// Status is the HTTP status of the answer.
	Status int
	// IdempotencyKey is the key the record was sent under.
	IdempotencyKey string
	// Duplicate is true when the ERP already had this state (HTTP 409, or a
	// connector that found its document already holding it).
	Duplicate bool
	// DocumentID is the ERP's id of the record's document (Kingdee FID,
	// Tryton id), empty when the ERP does not tell (the HTTP contract).
	DocumentID string
	// Number is the document's number (Kingdee FBillNo, Tryton reference; see
	// DocumentNumber), empty when the ERP does not tell.
	Number string
	// Created is true when this send created the document, false when it
	// updated one that existed.
	Created bool
}

var _ Sink = (*Client)(nil)

// Error is a record the ERP does not hold after Send.
type Error struct {
	// Record names the record, e.g. "autox3/reception_order/6482 v1616502610117".
	Record string
	// Status is the HTTP status, or 0 when no answer arrived (network error,
	// timeout) or the record was never sent (invalid record).
	Status int
	// Retryable says whether sending the same record again may succeed.
	Retryable bool
	// Reason is the ERP's message, or what went wrong on the way.
	Reason string
	// RetryAfter is the wait the ERP asked for (Retry-After), 0 when none.
	RetryAfter time.Duration
	// Err is the underlying transport or validation error, if any.
	Err error
}

// Error names the record and what happened, but never quotes the ERP's
// answer, which may echo the record's personal data: it gives the answer's
// length and a fingerprint instead, for finding the full text (Detail) in
// the database. Errors go to logs and to Temporal failure messages.
func (e *Error) Error() string { return e.format(e.reason(false)) }

// Detail is Error with the ERP's full answer, for the database and the
// encrypted workflow state only.
func (e *Error) Detail() string { return e.format(e.reason(true)) }

func (e *Error) format(reason string) string {
	switch {
	case e.Status != 0 && !e.Retryable:
		return fmt.Sprintf("ERP rejected record %s: HTTP %d: %s", e.Record, e.Status, reason)
	case e.Status != 0:
		return fmt.Sprintf("ERP failed record %s (retryable): HTTP %d: %s", e.Record, e.Status, reason)
	case e.Retryable:
		return fmt.Sprintf("ERP unreachable for record %s (retryable): %s", e.Record, reason)
	default:
		return fmt.Sprintf("record %s not sent: %s", e.Record, reason)
	}
}

// reason is the ERP's answer (full), or its fingerprint; reasons of this
// client's own making (no HTTP answer) are always given in full.
func (e *Error) reason(full bool) string {
	if full || e.Status == 0 || e.Reason == "" {
		return e.Reason
	}
	sum := sha256.Sum256([]byte(e.Reason))
	return fmt.Sprintf("answer of %d bytes (sha256 %s; full text kept with the record)", len(e.Reason), hex.EncodeToString(sum[:4]))
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Send posts one record. A nil error means the ERP holds the record (2xx, or
// 409 for a state it already had); otherwise the error is an *Error saying
// whether to retry.
func (c *Client) Send(ctx context.Context, r Record) (Result, error) {
	key := IdempotencyKey(r)
	res := Result{IdempotencyKey: key}
	if err := r.Validate(); err != nil {
		return res, &Error{Record: r.Label(), Reason: "invalid record: " + err.Error(), Err: err}
	}
	body, err := r.Encode()
	if err != nil {
		return res, &Error{Record: r.Label(), Reason: err.Error(), Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return res, &Error{Record: r.Label(), Reason: "invalid ERP URL: " + err.Error(), Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "erpbridge")
	req.Header.Set("Idempotency-Key", key)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}

	resp, err := c.http.Do(req)
	if err != nil {
		return res, c.transportError(ctx, r, err)
	}
	defer resp.Body.Close()
	res.Status = resp.StatusCode

	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300, code == http.StatusConflict:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrainBytes))
		res.Duplicate = code == http.StatusConflict
		return res, nil
	}

	e := &Error{Record: r.Label(), Status: code, Reason: readReason(resp)}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrainBytes))
	switch {
	case code == http.StatusRequestTimeout, code == http.StatusTooManyRequests, code >= 500 && code < 600:
		e.Retryable = true
		e.RetryAfter = RetryAfter(resp.Header.Get("Retry-After"), time.Now())
	case code >= 400 && code < 500:
		e.Retryable = false
	default:
		// 1xx, 3xx and non-standard codes are outside the contract: something
		// other than the ERP answered (a proxy, a redirect). Keep the record
		// and retry rather than declare it refused.
		e.Retryable = true
		e.Reason = "unexpected answer outside the ERP contract: " + e.Reason
	}
	return res, e
}

// transportError classifies a call that got no answer: always retryable.
func (c *Client) transportError(ctx context.Context, r Record, err error) *Error {
	return &Error{Record: r.Label(), Retryable: true, Err: err, Reason: reason.Transport(ctx, err, c.timeout)}
}

// readReason reads at most maxReasonBytes of an error answer and returns the
// ERP's message: the "error" or "message" string of a JSON body, otherwise
// the text itself on one line, otherwise the status text.
func readReason(resp *http.Response) string {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxReasonBytes))
	var msg struct {
		Error   any `json:"error"`
		Message any `json:"message"`
	}
	if json.Unmarshal(raw, &msg) == nil {
		for _, v := range []any{msg.Error, msg.Message} {
			if s, ok := v.(string); ok && strings.TrimSpace(s) != "" {
				return reason.OneLine(s)
			}
		}
	}
	if s := reason.OneLine(string(raw)); s != "" {
		return s
	}
	if s := http.StatusText(resp.StatusCode); s != "" {
		return s
	}
	return "no reason given"
}

// maxRetryAfter is the longest wait RetryAfter gives: an ERP that asks for
// more is asked again after a week.
const maxRetryAfter = 7 * 24 * time.Hour

// RetryAfter parses a Retry-After header value, delay seconds or an HTTP
// date, into the wait it asks for from now, at most a week; 0 when the value
// is empty, unparsable, not positive or a date already past.
func RetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	// Out of range, ParseInt gives the largest number of that sign.
	if n, err := strconv.ParseInt(v, 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		if n <= 0 {
			return 0
		}
		return time.Duration(min(n, int64(maxRetryAfter/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), maxRetryAfter)
	}
	return 0
}
