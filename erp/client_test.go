package erp

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/internal/testkit"
)

func sampleRecord(t *testing.T) Record {
	t.Helper()
	at, err := time.Parse(time.RFC3339, "2021-03-23T20:30:10+08:00")
	if err != nil {
		t.Fatal(err)
	}
	return Record{
		Source:     "autox3",
		Kind:       "reception_order",
		ExternalID: "6482",
		Version:    1616502610117,
		OccurredAt: at,
		Data:       json.RawMessage(`{"amount":"1234.50","tiny":"0.000000000000000001","big":12345678901234567890.10,"note":"<a & b>"}`),
	}
}

// answer returns a server that answers every request with status, headers and body.
func answer(t *testing.T, status int, header map[string]string, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestSendDone(t *testing.T) {
	for _, tc := range []struct {
		status    int
		duplicate bool
	}{
		{http.StatusOK, false},
		{http.StatusCreated, false},
		{http.StatusAccepted, false},
		{http.StatusNoContent, false},
		{http.StatusConflict, true},
	} {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			srv := answer(t, tc.status, nil, `{"error":"duplicate"}`)
			r := sampleRecord(t)
			res, err := NewClient(srv.URL, "tok", 5*time.Second).Send(context.Background(), r)
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if res.Status != tc.status || res.Duplicate != tc.duplicate || res.IdempotencyKey != IdempotencyKey(r) {
				t.Fatalf("result = %+v, want status %d duplicate %v key %s", res, tc.status, tc.duplicate, IdempotencyKey(r))
			}
		})
	}
}

func TestSendFailures(t *testing.T) {
	for _, tc := range []struct {
		name       string
		status     int
		header     map[string]string
		body       string
		retryable  bool
		reason     string
		retryAfter time.Duration
	}{
		{"408", 408, nil, "", true, "Request Timeout", 0},
		{"429 retry-after", 429, map[string]string{"Retry-After": "7"}, `{"message":"slow down"}`, true, "slow down", 7 * time.Second},
		{"500", 500, nil, "boom\n\tat line 3", true, "boom at line 3", 0},
		{"503 retry-after", 503, map[string]string{"Retry-After": "120"}, `{"error":"maintenance"}`, true, "maintenance", 2 * time.Minute},
		{"599", 599, nil, "", true, "no reason given", 0},
		{"400", 400, nil, `{"error":"bad json"}`, false, "bad json", 0},
		{"401", 401, nil, `{"error":"bad token"}`, false, "bad token", 0},
		{"404", 404, nil, "404 page not found\n", false, "404 page not found", 0},
		{"422", 422, map[string]string{"Retry-After": "5"}, `{"error":"unknown customer","message":"ignored"}`, false, "unknown customer", 0},
		{"422 message only", 422, nil, `{"error":null,"message":"unknown customer"}`, false, "unknown customer", 0},
		{"302 not followed", 302, map[string]string{"Location": "/elsewhere"}, "", true, "unexpected answer outside the ERP contract: Found", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := answer(t, tc.status, tc.header, tc.body)
			r := sampleRecord(t)
			res, err := NewClient(srv.URL, "tok", 5*time.Second).Send(context.Background(), r)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Send error = %v (%T), want *Error", err, err)
			}
			if e.Status != tc.status || e.Retryable != tc.retryable || e.Reason != tc.reason || e.RetryAfter != tc.retryAfter {
				t.Fatalf("error = %+v, want status %d retryable %v reason %q retryAfter %s",
					e, tc.status, tc.retryable, tc.reason, tc.retryAfter)
			}
			if isRejected(err) == tc.retryable || isRetryable(err) != tc.retryable {
				t.Fatalf("IsRejected = %v, IsRetryable = %v for retryable %v", isRejected(err), isRetryable(err), tc.retryable)
			}
			if res.Status != tc.status || res.IdempotencyKey != IdempotencyKey(r) {
				t.Fatalf("result = %+v", res)
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	srv := answer(t, 422, nil, `{"error":"unknown customer"}`)
	_, err := NewClient(srv.URL, "tok", 5*time.Second).Send(context.Background(), sampleRecord(t))
	// The message fingerprints the ERP's answer, which may echo personal data;
	// Detail carries it whole for the database.
	want := "ERP rejected record autox3/reception_order/6482 v1616502610117: HTTP 422: answer of 16 bytes (sha256 2807d0e6; full text kept with the record)"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %q", err, want)
	}
	var e *Error
	if !errors.As(err, &e) || e.Detail() != "ERP rejected record autox3/reception_order/6482 v1616502610117: HTTP 422: unknown customer" {
		t.Fatalf("detail = %q", e.Detail())
	}
}

func TestReasonReadsAtMost4KiB(t *testing.T) {
	srv := answer(t, 400, nil, strings.Repeat("x", 10_000))
	_, err := NewClient(srv.URL, "", 5*time.Second).Send(context.Background(), sampleRecord(t))
	var e *Error
	if !errors.As(err, &e) || len(e.Reason) != 4096 {
		t.Fatalf("error = %v, want a reason of 4096 bytes", err)
	}
}

func TestSendTimeoutIsRetryable(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs before srv.Close
	start := time.Now()
	_, err := NewClient(srv.URL, "tok", 100*time.Millisecond).Send(context.Background(), sampleRecord(t))
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Fatalf("Send took %s, want about the 100ms timeout", elapsed)
	}
	var e *Error
	if !errors.As(err, &e) || e.Status != 0 || !e.Retryable || !strings.HasPrefix(e.Reason, "no answer within 100ms") {
		t.Fatalf("error = %#v, want retryable status 0 timeout", err)
	}
	if isRejected(err) {
		t.Fatal("a timeout must not be a rejection")
	}
}

func TestSendConnectionRefusedIsRetryable(t *testing.T) {
	addr := testkit.FreeAddr(t)
	_, err := NewClient("http://"+addr, "tok", 2*time.Second).Send(context.Background(), sampleRecord(t))
	var e *Error
	if !errors.As(err, &e) || e.Status != 0 || !e.Retryable || !strings.HasPrefix(e.Reason, "network error: ") {
		t.Fatalf("error = %#v, want retryable status 0 network error", err)
	}
	if !strings.HasPrefix(err.Error(), "ERP unreachable for record autox3/reception_order/6482 v1616502610117 (retryable): ") {
		t.Fatalf("message = %q", err.Error())
	}
	var op *net.OpError
	if !errors.As(err, &op) {
		t.Fatalf("error does not unwrap to the network error: %v", err)
	}
}

func TestSendCancelledContextIsRetryable(t *testing.T) {
	srv := answer(t, 200, nil, "")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := NewClient(srv.URL, "tok", time.Second).Send(ctx, sampleRecord(t))
	if !isRetryable(err) || !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want retryable wrapping context.Canceled", err)
	}
}

func TestSendInvalidRecordIsNotSent(t *testing.T) {
	calls := 0
	srv := testkit.HTTPServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls++ }))
	c := NewClient(srv.URL, "tok", time.Second)
	for _, tc := range []struct {
		mutate func(*Record)
		field  string
	}{
		{func(r *Record) { r.Source = "" }, "source"},
		{func(r *Record) { r.Kind = "" }, "kind"},
		{func(r *Record) { r.ExternalID = "" }, "external_id"},
		{func(r *Record) { r.Version = 0 }, "version"},
		{func(r *Record) { r.OccurredAt = time.Time{} }, "occurred_at"},
		{func(r *Record) { r.Data = nil }, "data"},
		{func(r *Record) { r.Data = json.RawMessage(`[1]`) }, "data"},
		{func(r *Record) { r.Data = json.RawMessage(`{"a":`) }, "data"},
	} {
		r := sampleRecord(t)
		tc.mutate(&r)
		_, err := c.Send(context.Background(), r)
		if !isRejected(err) || !strings.Contains(err.Error(), "invalid record: "+tc.field+":") {
			t.Errorf("%s: error = %v, want a permanent invalid-record error naming the field", tc.field, err)
		}
	}
	if calls != 0 {
		t.Fatalf("server saw %d calls for invalid records, want 0", calls)
	}
}

func TestSendRequestMatchesContract(t *testing.T) {
	var (
		method, path string
		header       http.Header
		body         []byte
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method, path, header = r.Method, r.URL.Path, r.Header.Clone()
		body, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusCreated)
	}))
	t.Cleanup(srv.Close)

	r := sampleRecord(t)
	r.Data = json.RawMessage("{\n  \"amount\": \"1234.50\",\n  \"big\": 12345678901234567890.10,\n  \"note\": \"<a & b>\"\n}")
	if _, err := NewClient(srv.URL+"/", "s3cret", time.Second).Send(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if method != http.MethodPost || path != "/records" {
		t.Fatalf("request = %s %s, want POST /records", method, path)
	}
	if got := header.Get("Authorization"); got != "Bearer s3cret" {
		t.Fatalf("Authorization = %q", got)
	}
	if got := header.Get("Content-Type"); got != "application/json" {
		t.Fatalf("Content-Type = %q", got)
	}
	if got, want := header.Get("Idempotency-Key"), IdempotencyKey(r); got != want {
		t.Fatalf("Idempotency-Key = %q, want %q", got, want)
	}
	want := `{"source":"autox3","kind":"reception_order","external_id":"6482","version":1616502610117,` +
		`"occurred_at":"2021-03-23T20:30:10+08:00",` +
		`"data":{"amount":"1234.50","big":12345678901234567890.10,"note":"<a & b>"}}`
	if string(body) != want {
		t.Fatalf("body =\n%s\nwant\n%s", body, want)
	}
}

func TestSendWithoutTokenOmitsAuthorization(t *testing.T) {
	var auth []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Values("Authorization")
	}))
	t.Cleanup(srv.Close)
	if _, err := NewClient(srv.URL, "", time.Second).Send(context.Background(), sampleRecord(t)); err != nil {
		t.Fatal(err)
	}
	if len(auth) != 0 {
		t.Fatalf("Authorization sent without a token: %q", auth)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"-3", 0},
		{"30", 30 * time.Second},
		{" 2 ", 2 * time.Second},
		{"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"9999999999", 7 * 24 * time.Hour},
		{"99999999999999999999", 7 * 24 * time.Hour},
		{"-99999999999999999999", 0},
		{now.Add(30 * 24 * time.Hour).Format(http.TimeFormat), 7 * 24 * time.Hour},
	} {
		if got := RetryAfter(tc.in, now); got != tc.want {
			t.Errorf("RetryAfter(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// isRejected reports whether err is a permanent failure.
func isRejected(err error) bool {
	var e *Error
	return errors.As(err, &e) && !e.Retryable
}

// isRetryable reports whether err is a failure that a later resend may cure.
func isRetryable(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Retryable
}
