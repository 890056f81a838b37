package tryton

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/internal/testkit"
)

// fakeTryton answers JSON-RPC like Tryton for the protocol's corner cases
// that a real server cannot be made to produce on demand (5xx, 429, a
// session refused right after login, slow answers). The connector's
// behaviour against a real server is in sink_test.go.
type fakeTryton struct {
	t      *testing.T
	logins atomic.Int32
	// answer handles every call but common.db.login; session is the key the
	// call carried ("" when none).
	answer func(w http.ResponseWriter, method, session string)
}

func (f *fakeTryton) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ID     int64             `json:"id"`
		Method string            `json:"method"`
		Params []json.RawMessage `json:"params"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if req.Method == "common.db.login" {
		n := f.logins.Add(1)
		fmt.Fprintf(w, `{"id": %d, "result": [7, "key-%d"]}`, req.ID, n)
		return
	}
	session := ""
	if auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Session "); ok {
		raw, err := base64.StdEncoding.DecodeString(auth)
		if err != nil {
			f.t.Errorf("Authorization is not base64: %v", err)
		}
		parts := strings.Split(string(raw), ":")
		if len(parts) != 3 || parts[0] != "erpbridge" || parts[1] != "7" {
			f.t.Errorf("Authorization %q, want erpbridge:7:<session>", raw)
		}
		session = parts[len(parts)-1]
	}
	if req.Method == "model.res.user.get_preferences" {
		fmt.Fprintf(w, `{"id": %d, "result": {"company": 1, "company.rec_name": "Co", "language": "en"}}`, req.ID)
		return
	}
	f.answer(w, req.Method, session)
}

func fakeClient(t *testing.T, f *fakeTryton, edit func(*Config)) *rpc {
	t.Helper()
	f.t = t
	srv := testkit.HTTPServer(t, f)
	cfg := Config{URL: srv.URL, Database: "db", User: "erpbridge", Password: "pw-123456"}
	if edit != nil {
		edit(&cfg)
	}
	return newRPC(cfg.withDefaults(), nil)
}

func TestAnswerErrorsClassified(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		error     string
		retryable bool
		reason    string
	}{
		{"user error", `["UserError", ["A value is required for field \"Party\" in \"Sale\".", "", null]]`, false,
			`UserError: A value is required for field "Party" in "Sale".`},
		{"user warning", `["UserWarning", ["key", "Are you sure?", ""]]`, false, "UserWarning (needs a person's confirmation in Tryton): key - Are you sure?"},
		{"concurrency", `["ConcurrencyException", "Records were modified in the meanwhile"]`, true, "ConcurrencyException: Records were modified in the meanwhile"},
		{"database locked", `["database is locked", "Traceback (most recent call last):\n  ...\nsqlite3.OperationalError: database is locked\n"]`, true, "server error: database is locked"},
		{"python bug", `["'account_expense_used'", "Traceback (most recent call last):\n  ...\nKeyError: 'account_expense_used'\n"]`, false, "server error: 'account_expense_used' (KeyError: 'account_expense_used')"},
		{"not an array", `{"x": 1}`, true, "unreadable error answer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := fakeClient(t, &fakeTryton{answer: func(w http.ResponseWriter, method, _ string) {
				fmt.Fprintf(w, `{"id": 1, "error": %s}`, c.error)
			}}, nil)
			_, err := r.call(t.Context(), "model.sale.sale.create", []any{}, map[string]any{})
			var ce *callError
			if !errors.As(err, &ce) {
				t.Fatalf("call: %v, want a *callError", err)
			}
			if ce.Retryable != c.retryable || ce.Status != http.StatusOK || !strings.HasPrefix(ce.Reason, c.reason) {
				t.Fatalf("got retryable=%v status=%d reason=%q; want retryable=%v status 200 reason %q",
					ce.Retryable, ce.Status, ce.Reason, c.retryable, c.reason)
			}
		})
	}
}

func TestStatusesClassified(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status     int
		retryable  bool
		retryAfter time.Duration
	}{
		{http.StatusInternalServerError, true, 0},
		{http.StatusServiceUnavailable, true, 7 * time.Second},
		{http.StatusTooManyRequests, true, 7 * time.Second},
		{http.StatusNotFound, true, 0},
		{http.StatusForbidden, false, 0},
		{http.StatusBadRequest, false, 0},
	}
	for _, c := range cases {
		t.Run(http.StatusText(c.status), func(t *testing.T) {
			r := fakeClient(t, &fakeTryton{answer: func(w http.ResponseWriter, _, _ string) {
				w.Header().Set("Retry-After", "7")
				w.WriteHeader(c.status)
				fmt.Fprint(w, "<html>oops</html>")
			}}, nil)
			_, err := r.call(t.Context(), "model.sale.sale.create", []any{}, map[string]any{})
			var ce *callError
			if !errors.As(err, &ce) || ce.Status != c.status || ce.Retryable != c.retryable {
				t.Fatalf("call: %#v, want status %d retryable %v", err, c.status, c.retryable)
			}
			if c.retryAfter != 0 && ce.RetryAfter != c.retryAfter {
				t.Errorf("RetryAfter %s, want %s", ce.RetryAfter, c.retryAfter)
			}
		})
	}
}

// TestUnauthorizedGetsOneLoginAndOneRepeat: a 401 is cured by one new
// login; a 401 right after that is not retried again.
func TestUnauthorizedGetsOneLoginAndOneRepeat(t *testing.T) {
	t.Parallel()
	f := &fakeTryton{answer: func(w http.ResponseWriter, _, session string) {
		if session == "key-1" { // the first session has expired
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, `{"id": 1, "result": [42]}`)
	}}
	r := fakeClient(t, f, nil)
	raw, err := r.call(t.Context(), "model.sale.sale.search", []any{}, map[string]any{})
	if err != nil || string(raw) != "[42]" {
		t.Fatalf("call: %s %v, want [42]", raw, err)
	}
	if n := f.logins.Load(); n != 2 {
		t.Fatalf("%d logins, want 2", n)
	}
	if _, err := r.call(t.Context(), "model.sale.sale.search", []any{}, map[string]any{}); err != nil {
		t.Fatal(err)
	}
	if n := f.logins.Load(); n != 2 {
		t.Fatalf("%d logins after a second call, want 2 (session kept)", n)
	}

	always := &fakeTryton{answer: func(w http.ResponseWriter, _, _ string) { w.WriteHeader(http.StatusUnauthorized) }}
	r = fakeClient(t, always, nil)
	_, err = r.call(t.Context(), "model.sale.sale.search", []any{}, map[string]any{})
	var ce *callError
	if !errors.As(err, &ce) || !ce.Retryable || !strings.Contains(ce.Reason, "right after a new login") {
		t.Fatalf("call: %v, want a retryable refusal of the fresh session", err)
	}
	if n := always.logins.Load(); n != 2 {
		t.Fatalf("%d logins, want 2 (one new login, no more)", n)
	}
}

// TestConcurrentCallsBounded: no more than MaxConcurrent calls are in
// flight, and concurrent calls that find no session share one login.
func TestConcurrentCallsBounded(t *testing.T) {
	t.Parallel()
	var inFlight, peak atomic.Int32
	f := &fakeTryton{answer: func(w http.ResponseWriter, _, _ string) {
		n := inFlight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
		inFlight.Add(-1)
		fmt.Fprint(w, `{"id": 1, "result": []}`)
	}}
	r := fakeClient(t, f, func(c *Config) { c.MaxConcurrent = 2 })
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := r.call(context.Background(), "model.sale.sale.search", []any{}, map[string]any{}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if p := peak.Load(); p > 2 || p == 0 {
		t.Fatalf("peak of %d calls in flight, want at most 2", p)
	}
	if n := f.logins.Load(); n != 1 {
		t.Fatalf("%d logins for 8 concurrent calls, want 1", n)
	}
}

func TestSlowAnswerTimesOut(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	f := &fakeTryton{answer: func(w http.ResponseWriter, _, _ string) {
		<-release
		fmt.Fprint(w, `{"id": 1, "result": []}`)
	}}
	r := fakeClient(t, f, func(c *Config) { c.Timeout = 50 * time.Millisecond })
	defer close(release)
	_, err := r.call(t.Context(), "model.sale.sale.search", []any{}, map[string]any{})
	var ce *callError
	if !errors.As(err, &ce) || !ce.Retryable || !strings.Contains(ce.Reason, "no answer within 50ms") {
		t.Fatalf("call: %v, want a retryable timeout", err)
	}
}

// TestLoginFailureNamesSettings: a refused login is retryable and names the
// variables to check, never the password.
func TestLoginFailureNamesSettings(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(srv.Close)
	r := newRPC(Config{URL: srv.URL, Database: "db", User: "erpbridge", Password: "pw-123456"}.withDefaults(), nil)
	_, err := r.call(t.Context(), "model.sale.sale.search", []any{}, map[string]any{})
	var ce *callError
	if !errors.As(err, &ce) || !ce.Retryable || ce.Status != 0 {
		t.Fatalf("call: %#v, want a retryable login failure of this client's words", err)
	}
	if !strings.Contains(ce.Reason, "TRYTON_PASSWORD") || strings.Contains(err.Error(), "pw-123456") {
		t.Fatalf("reason %q", ce.Reason)
	}
}
