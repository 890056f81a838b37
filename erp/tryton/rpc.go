package tryton

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/internal/reason"
)

// maxAnswerBytes bounds one JSON-RPC answer.
const maxAnswerBytes = 32 << 20

// maxReasonBytes bounds the part of an error answer kept as its reason.
const maxReasonBytes = 4 << 10

// callError is a failed JSON-RPC call, classified.
type callError struct {
	// Method is the JSON-RPC method.
	Method string
	// Status is the HTTP status of the answer, 0 when none arrived.
	Status int
	// Retryable says a repeat may succeed.
	Retryable bool
	// Reason says what went wrong: Tryton's own message for an error
	// answer (which may echo personal data), or this client's words.
	Reason string
	// RetryAfter is the wait Tryton asked for (HTTP 429), 0 when none.
	RetryAfter time.Duration
	// Err is the transport error, if any.
	Err error
}

func (e *callError) Error() string {
	return fmt.Sprintf("tryton %s: %s", e.Method, e.Reason)
}

func (e *callError) Unwrap() error { return e.Err }

// session is one login: Tryton's user id and session key.
type session struct {
	userID int64
	key    string
}

// rpc is a JSON-RPC client of one Tryton database. It logs in on first use,
// keeps the session for every later call, logs in again once when Tryton
// answers 401 (the session expired or is unknown) and repeats that call
// once. At most MaxConcurrent calls are in flight at a time.
type rpc struct {
	endpoint string
	login    string
	password string
	timeout  time.Duration
	http     *http.Client
	slots    chan struct{}
	ids      atomic.Int64

	mu   sync.Mutex // guards sess and prefs
	sess *session
	// prefs is the user's context (company, language, ...) from
	// res.user.get_preferences, sent with every model call as the Tryton
	// client does.
	prefs map[string]any
	// loginMu makes concurrent calls that find no session wait for one login.
	loginMu sync.Mutex
}

// newRPC calls cfg's database through rt (nil: http.DefaultTransport),
// never following a redirect.
func newRPC(cfg Config, rt http.RoundTripper) *rpc {
	hc := &http.Client{
		Transport:     rt,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &rpc{
		endpoint: cfg.endpoint(),
		login:    cfg.User,
		password: cfg.Password,
		timeout:  cfg.Timeout,
		http:     hc,
		slots:    make(chan struct{}, cfg.MaxConcurrent),
	}
}

// call runs method with params under the current session and returns the
// raw result. A 401 answer gets one new login and one repeat.
func (c *rpc) call(ctx context.Context, method string, params ...any) (json.RawMessage, error) {
	if params == nil {
		params = []any{}
	}
	sess, err := c.session(ctx)
	if err != nil {
		return nil, err
	}
	res, err := c.do(ctx, method, params, sess)
	var ce *callError
	if !errors.As(err, &ce) || ce.Status != http.StatusUnauthorized {
		return res, err
	}
	if sess, err = c.relogin(ctx, sess); err != nil {
		return nil, err
	}
	res, err = c.do(ctx, method, params, sess)
	if errors.As(err, &ce) && ce.Status == http.StatusUnauthorized {
		ce.Retryable = true
		ce.Reason = "Tryton refused a fresh session (HTTP 401 right after a new login)"
	}
	return res, err
}

// context returns the user's context merged with extra (extra wins), for
// the last argument of a model call.
func (c *rpc) context(ctx context.Context, extra map[string]any) (map[string]any, error) {
	if _, err := c.session(ctx); err != nil {
		return nil, err
	}
	c.mu.Lock()
	out := make(map[string]any, len(c.prefs)+len(extra))
	for k, v := range c.prefs {
		out[k] = v
	}
	c.mu.Unlock()
	for k, v := range extra {
		out[k] = v
	}
	return out, nil
}

// session returns the current session, logging in when there is none.
func (c *rpc) session(ctx context.Context) (*session, error) {
	c.mu.Lock()
	s := c.sess
	c.mu.Unlock()
	if s != nil {
		return s, nil
	}
	return c.relogin(ctx, nil)
}

// relogin replaces the session stale (nil: none yet) by a new login, unless
// another call already did.
func (c *rpc) relogin(ctx context.Context, stale *session) (*session, error) {
	c.loginMu.Lock()
	defer c.loginMu.Unlock()
	c.mu.Lock()
	cur := c.sess
	c.mu.Unlock()
	if cur != nil && cur != stale {
		return cur, nil
	}
	s, err := c.doLogin(ctx)
	if err != nil {
		return nil, err
	}
	raw, err := c.do(ctx, "model.res.user.get_preferences", []any{true, map[string]any{}}, s)
	if err != nil {
		return nil, err
	}
	var prefs map[string]any
	if err := decodeNumbers(raw, &prefs); err != nil {
		return nil, &callError{Method: "model.res.user.get_preferences", Retryable: true, Reason: "unreadable preferences: " + err.Error()}
	}
	for k := range prefs {
		// Keys with a dot are display names (e.g. "company.rec_name"), not context.
		if strings.Contains(k, ".") {
			delete(prefs, k)
		}
	}
	c.mu.Lock()
	c.sess, c.prefs = s, prefs
	c.mu.Unlock()
	return s, nil
}

// doLogin calls common.db.login with the password; its failures are
// retryable (the settings or the server are wrong, not the record) and
// never quote the password.
func (c *rpc) doLogin(ctx context.Context) (*session, error) {
	const method = "common.db.login"
	raw, err := c.do(ctx, method, []any{c.login, map[string]any{"password": c.password}}, nil)
	if err != nil {
		var ce *callError
		if errors.As(err, &ce) {
			ce.Retryable = true
			// These reasons are this client's words, so Status goes: the
			// record's error then shows them in full instead of a fingerprint.
			switch ce.Status {
			case http.StatusUnauthorized, http.StatusForbidden:
				ce.Reason = fmt.Sprintf("login refused for user %q (HTTP %d): check TRYTON_USER and TRYTON_PASSWORD", c.login, ce.Status)
				ce.Status = 0
			case http.StatusNotFound:
				ce.Reason = "login: database not found (HTTP 404): check TRYTON_DATABASE"
				ce.Status = 0
			case http.StatusTooManyRequests:
				ce.Reason = "login: too many attempts (HTTP 429), Tryton asks to wait"
				ce.Status = 0
			}
		}
		return nil, err
	}
	var res []json.RawMessage
	if err := json.Unmarshal(raw, &res); err != nil || len(res) != 2 {
		return nil, &callError{Method: method, Status: http.StatusOK, Retryable: true, Reason: "login answer is not [user id, session]"}
	}
	var s session
	if json.Unmarshal(res[0], &s.userID) != nil || json.Unmarshal(res[1], &s.key) != nil || s.key == "" {
		return nil, &callError{Method: method, Status: http.StatusOK, Retryable: true, Reason: "login answer is not [user id, session]"}
	}
	return &s, nil
}

// do posts one JSON-RPC request and classifies the answer.
func (c *rpc) do(ctx context.Context, method string, params []any, s *session) (json.RawMessage, error) {
	body, err := json.Marshal(map[string]any{"id": c.ids.Add(1), "method": method, "params": params})
	if err != nil {
		return nil, &callError{Method: method, Reason: "encode request: " + err.Error(), Err: err}
	}
	select {
	case c.slots <- struct{}{}:
		defer func() { <-c.slots }()
	case <-ctx.Done():
		return nil, &callError{Method: method, Retryable: true, Reason: "call abandoned while waiting for a free connection: " + ctx.Err().Error(), Err: ctx.Err()}
	}
	cctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(cctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, &callError{Method: method, Reason: "invalid TRYTON_URL: " + err.Error(), Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "erpbridge")
	if s != nil {
		req.Header.Set("Authorization", "Session "+base64.StdEncoding.EncodeToString(
			[]byte(c.login+":"+strconv.FormatInt(s.userID, 10)+":"+s.key)))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, &callError{Method: method, Retryable: true, Err: err, Reason: reason.Transport(ctx, err, c.timeout)}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, statusError(method, resp)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	if err != nil {
		return nil, &callError{Method: method, Status: resp.StatusCode, Retryable: true, Reason: "answer cut off: " + err.Error(), Err: err}
	}
	if len(raw) > maxAnswerBytes {
		return nil, &callError{Method: method, Status: resp.StatusCode, Reason: fmt.Sprintf("answer larger than %d bytes", maxAnswerBytes)}
	}
	var ans struct {
		Result json.RawMessage `json:"result"`
		Error  json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil {
		return nil, &callError{Method: method, Status: resp.StatusCode, Retryable: true, Reason: "answer is not JSON-RPC: " + quote(string(raw))}
	}
	if len(ans.Error) > 0 && string(ans.Error) != "null" {
		return nil, answerError(method, ans.Error)
	}
	if ans.Result == nil {
		ans.Result = json.RawMessage("null")
	}
	return ans.Result, nil
}

// statusError classifies a non-200 answer.
func statusError(method string, resp *http.Response) *callError {
	text, _ := io.ReadAll(io.LimitReader(resp.Body, maxReasonBytes))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	ce := &callError{Method: method, Status: resp.StatusCode}
	reason := reason.OneLine(string(text))
	if reason == "" {
		reason = http.StatusText(resp.StatusCode)
	}
	ce.Reason = fmt.Sprintf("HTTP %d: %s", resp.StatusCode, reason)
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized:
		ce.Retryable = true
		ce.Reason = "session expired or unknown (HTTP 401)"
	case code == http.StatusTooManyRequests, code == http.StatusRequestTimeout, code == http.StatusLocked,
		code == http.StatusNotFound, code >= 500:
		// 404: the database is missing or not yet loaded; 423: Tryton's
		// ConcurrencyException outside JSON-RPC framing.
		ce.Retryable = true
		ce.RetryAfter = erp.RetryAfter(resp.Header.Get("Retry-After"), time.Now())
	case code == http.StatusForbidden:
		ce.Reason = fmt.Sprintf("HTTP 403: Tryton does not allow %s over RPC for this user", method)
	default:
		// Other 4xx: the request itself is wrong; a repeat gets the same.
	}
	return ce
}

// answerError classifies a JSON-RPC error answer: Tryton sends
// [exception name, args] for its own exceptions and [message, traceback]
// for any other.
func answerError(method string, raw json.RawMessage) *callError {
	ce := &callError{Method: method, Status: http.StatusOK}
	var parts []json.RawMessage
	if err := json.Unmarshal(raw, &parts); err != nil || len(parts) == 0 {
		ce.Retryable = true
		ce.Reason = "unreadable error answer: " + quote(string(raw))
		return ce
	}
	var name string
	_ = json.Unmarshal(parts[0], &name)
	args := json.RawMessage("null")
	if len(parts) > 1 {
		args = parts[1]
	}
	switch name {
	case "UserError":
		// args: [message, description, domain]
		ce.Reason = "UserError: " + joinTexts(args, 2)
	case "UserWarning":
		// args: [name, message, description]; a warning waits for a person
		// to confirm it, which no connector can do.
		ce.Reason = "UserWarning (needs a person's confirmation in Tryton): " + joinTexts(args, 3)
	case "LoginException":
		ce.Retryable = true
		ce.Reason = "LoginException: " + joinTexts(args, 2)
	case "ConcurrencyException":
		ce.Retryable = true
		ce.Reason = "ConcurrencyException: " + joinTexts(args, 1)
	default:
		// A Python exception: [str(exception), traceback].
		var msg, tb string
		_ = json.Unmarshal(parts[0], &msg)
		if len(parts) > 1 {
			_ = json.Unmarshal(parts[1], &tb)
		}
		last := lastLine(tb)
		ce.Retryable = transientServerError(msg + "\n" + last)
		ce.Reason = "server error: " + quote(msg)
		if last != "" {
			ce.Reason += " (" + quote(last) + ")"
		}
	}
	return ce
}

// transientServerError says whether a Python exception from Tryton is about
// the database's momentary state (locks, serialization, connections) rather
// than the request.
func transientServerError(text string) bool {
	t := strings.ToLower(text)
	for _, s := range []string{
		"operationalerror", "database is locked", "could not serialize", "deadlock",
		"transactionrollbackerror", "interfaceerror", "connection", "timeout", "timed out",
		"lock not available",
	} {
		if strings.Contains(t, s) {
			return true
		}
	}
	return false
}

// joinTexts joins the first n strings of a JSON array (or the text itself).
func joinTexts(raw json.RawMessage, n int) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return quote(s)
	}
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return quote(string(raw))
	}
	var out []string
	for i, it := range items {
		if i == n {
			break
		}
		if json.Unmarshal(it, &s) == nil && strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return quote(strings.Join(out, " - "))
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// decodeNumbers unmarshals raw keeping numbers as json.Number.
func decodeNumbers(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(v)
}

// quote is text from Tryton's answer fit for a reason: one line, at most
// maxReasonBytes.
func quote(s string) string { return reason.OneLine(reason.Clip(s, maxReasonBytes)) }
