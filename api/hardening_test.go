package api_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/api"
	"github.com/erpbridge/erpbridge/config"
	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/internal/testkit"
)

// serveReal serves the fixture's router through api.NewServer on a loopback
// listener, so the server's own timeouts apply, and returns its address.
func (f *fixture) serveReal(t *testing.T, cfg config.Config) string {
	t.Helper()
	return testkit.Serve(t, api.NewServer(cfg, f.router))
}

// rawPost opens a connection and sends a POST's head and the first part of
// its body; the caller sends the rest, or not.
func rawPost(t *testing.T, addr, target string, contentLength int, first []byte) net.Conn {
	t.Helper()
	return testkit.RawPost(t, addr, target, contentLength, nil, first)
}

// readAnswer reads one answer from conn within limit into a recorder.
func readAnswer(t *testing.T, conn net.Conn, br *bufio.Reader, limit time.Duration) *httptest.ResponseRecorder {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(limit))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer within %s: %v", limit, err)
	}
	defer resp.Body.Close()
	return recorded(t, resp)
}

// assertClosed fails unless the server closes conn within limit.
func assertClosed(t *testing.T, conn net.Conn, br *bufio.Reader, limit time.Duration) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(limit))
	_, err := br.ReadByte()
	testkit.ExpectClosed(t, err, limit)
}

// A sender whose body stalls is answered 408 in the vendor's format when
// HTTP_READ_TIMEOUT passes, in words that name no socket address, and the
// connection is closed; the full error is in the log only.
func TestWebhookSlowBodyCutOffWithGenericAnswer(t *testing.T) {
	for _, vendor := range sampleCallbacks("msg-slow-0001", "FBT-CAR-0900") {
		t.Run(vendor.name, func(t *testing.T) {
			cfg := testConfig(t, map[string]string{"HTTP_READ_TIMEOUT": "300ms"})
			f := newFixture(t, cfg)
			addr := f.serveReal(t, cfg)
			start := time.Now()
			conn := rawPost(t, addr, vendor.target, len(vendor.body), vendor.body[:len(vendor.body)/2])
			br := bufio.NewReader(conn)
			rec := readAnswer(t, conn, br, 5*time.Second)
			if elapsed := time.Since(start); elapsed < 250*time.Millisecond {
				t.Errorf("answered after %s, before the read timeout", elapsed)
			}
			const want = "request body was not received within 300ms; deliver again"
			if rec.Code != http.StatusRequestTimeout {
				t.Fatalf("answer = %d %s, want 408", rec.Code, rec.Body)
			}
			if vendor.name == "autox3" {
				if r := decodeAutoX3(t, rec); *r.ErrorInfo != want || *r.Status != http.StatusRequestTimeout {
					t.Errorf("answer = %s, want errorInfo %q", rec.Body, want)
				}
			} else if r := decodeFenbeitong(t, rec); *r.Msg != want || *r.Code == 0 {
				t.Errorf("answer = %s, want msg %q", rec.Body, want)
			}
			testkit.NoSocketIn(t, conn, "answer", rec.Body.String())
			assertClosed(t, conn, br, 5*time.Second)

			if got := counter(t, f.metrics, "erpbridge_callbacks_total", map[string]string{"vendor": vendor.name, "event_type": "unknown", "outcome": "timeout"}); got != 1 {
				t.Errorf("timeout callbacks = %v, want 1", got)
			}
			testenv.Eventually(t, "the read error logged", 5*time.Second, func() error {
				if !strings.Contains(f.logs.String(), "callback body could not be read") || !strings.Contains(f.logs.String(), "i/o timeout") {
					return errors.New("not yet")
				}
				return nil
			})
			assertNoneOf(t, "logs", f.logs.String(), autoX3Personal...)
			assertNoneOf(t, "logs", f.logs.String(), fenbeitongPersonal...)
		})
	}
}

// A body that arrives in parts within HTTP_READ_TIMEOUT is taken: the
// limits cut off only what does not arrive in time.
func TestWebhookTimelyBodyInPartsAccepted(t *testing.T) {
	cfg := testConfig(t, map[string]string{"HTTP_READ_TIMEOUT": "2s"})
	f := newFixture(t, cfg)
	addr := f.serveReal(t, cfg)
	body := sampleAutoX3("msg-parts-0001")
	conn := rawPost(t, addr, autoX3Path, len(body), body[:len(body)/2])
	time.Sleep(300 * time.Millisecond) // a pause well within the read timeout
	if _, err := conn.Write(body[len(body)/2:]); err != nil {
		t.Fatal(err)
	}
	rec := readAnswer(t, conn, bufio.NewReader(conn), 5*time.Second)
	if rec.Code != http.StatusOK || rec.Body.String() != autoX3OK {
		t.Fatalf("answer = %d %s, want 200", rec.Code, rec.Body)
	}
}

// While the process drains, every webhook answers 503 and starts nothing,
// so the vendor delivers again to a process that stays.
func TestWebhooksRefuseWhileDraining(t *testing.T) {
	t.Parallel()
	for _, vendor := range sampleCallbacks("msg-drn-0001", "FBT-CAR-0006") {
		t.Run(vendor.name, func(t *testing.T) {
			f := newFixture(t, testConfig(t, nil), func(d *api.Deps) { d.Draining = func() bool { return true } })
			rec := f.post(t, vendor.target, "application/json", vendor.body)
			checkRefusal(t, f, rec, vendor.name, http.StatusServiceUnavailable, "unavailable", "unknown", "shutting down")
			if n := len(f.temporal.Calls()); n != 0 {
				t.Errorf("ExecuteWorkflow called %d times while draining", n)
			}
		})
	}
}

// Past WEBHOOK_MAX_CONCURRENT requests in progress, a webhook is answered
// 503 at once in the vendor's format with a Retry-After, and counted; health,
// readiness and metrics still answer; once the requests in progress finish,
// callbacks are taken again.
func TestWebhookConcurrencyCap(t *testing.T) {
	cfg := testConfig(t, map[string]string{"WEBHOOK_MAX_CONCURRENT": "2"})
	f := newFixture(t, cfg)
	addr := f.serveReal(t, cfg)
	base := "http://" + addr

	// Two callbacks whose bodies are half sent hold the two places.
	var held []net.Conn
	var rests [][]byte
	for i := range 2 {
		body := sampleAutoX3(fmt.Sprintf("msg-cap-000%d", i))
		held = append(held, rawPost(t, addr, autoX3Path, len(body), body[:len(body)/2]))
		rests = append(rests, body[len(body)/2:])
	}
	testenv.Eventually(t, "two webhooks in flight", 5*time.Second, func() error {
		if got := gauge(t, f, "erpbridge_webhook_in_flight"); got != 2 {
			return fmt.Errorf("in flight = %v", got)
		}
		return nil
	})
	if got := gauge(t, f, "erpbridge_webhook_max_concurrent"); got != 2 {
		t.Errorf("erpbridge_webhook_max_concurrent = %v, want 2", got)
	}

	const busy = "too many callbacks in progress; deliver again later"
	rec := postTo(t, base+autoX3Path, sampleAutoX3("msg-cap-0002"))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("AutoX3 past the cap: %d (Retry-After %q) %s, want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	if r := decodeAutoX3(t, rec); *r.ErrorInfo != busy || *r.Status != http.StatusServiceUnavailable {
		t.Errorf("AutoX3 answer = %s", rec.Body)
	}
	rec = postTo(t, base+fenbeitongPath, sampleFenbeitong("FBT-CAR-0901", 700))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("Fenbeitong past the cap: %d %s, want 503", rec.Code, rec.Body)
	}
	if r := decodeFenbeitong(t, rec); *r.Msg != busy || *r.Code == 0 {
		t.Errorf("Fenbeitong answer = %s", rec.Body)
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s while the webhooks are at the cap = %d, want 200", path, resp.StatusCode)
		}
	}
	for _, vendor := range []string{"autox3", "fenbeitong"} {
		if got := counter(t, f.metrics, "erpbridge_callbacks_total", map[string]string{"vendor": vendor, "event_type": "unknown", "outcome": "overloaded"}); got != 1 {
			t.Errorf("%s overloaded = %v, want 1", vendor, got)
		}
	}

	// The held callbacks finish and are taken.
	for i, conn := range held {
		if _, err := conn.Write(rests[i]); err != nil {
			t.Fatal(err)
		}
		if rec := readAnswer(t, conn, bufio.NewReader(conn), 5*time.Second); rec.Code != http.StatusOK {
			t.Fatalf("held callback %d = %d %s, want 200", i, rec.Code, rec.Body)
		}
	}
	testenv.Eventually(t, "no webhook in flight", 5*time.Second, func() error {
		if got := gauge(t, f, "erpbridge_webhook_in_flight"); got != 0 {
			return fmt.Errorf("in flight = %v", got)
		}
		return nil
	})
	if rec := postTo(t, base+autoX3Path, sampleAutoX3("msg-cap-0003")); rec.Code != http.StatusOK {
		t.Fatalf("after the cap cleared: %d %s, want 200", rec.Code, rec.Body)
	}
}

// Refused authentications are counted by vendor, reason and whether the
// source failed before, and logged once per source within a minute, with
// no body content, token or address in any metric label.
func TestAuthFailuresCountedAndLoggedPerSource(t *testing.T) {
	f := newFixture(t, testConfig(t, nil))
	send := func(from, target string, body []byte) int {
		req := httptest.NewRequest(http.MethodPost, target, bytes.NewReader(body))
		req.RemoteAddr = from + ":40000"
		req.Header.Set("Content-Type", "application/json")
		return f.serve(req).Code
	}
	// Tokens of every length near the right one: each is refused, the
	// comparison of fixed-length digests sees nothing of the length.
	wrong := []string{testToken + "0", testToken[:len(testToken)-1], testToken[:4], strings.ToUpper(testToken), "q7z"}
	for i, tok := range wrong {
		if code := send("192.0.2.10", "/webhooks/fenbeitong?token="+tok, sampleFenbeitong(fmt.Sprintf("FBT-CAR-%04d", 910+i), 700)); code != http.StatusUnauthorized {
			t.Fatalf("token %q: %d, want 401", tok, code)
		}
	}
	for range 2 {
		if code := send("198.51.100.7", "/webhooks/fenbeitong", sampleFenbeitong("FBT-CAR-0920", 700)); code != http.StatusUnauthorized {
			t.Fatalf("no token: %d, want 401", code)
		}
	}
	forged := autoX3Forged(t)
	if code := send("192.0.2.10", autoX3Path, forged); code != http.StatusUnauthorized {
		t.Fatalf("forged AutoX3 callback: %d, want 401", code)
	}
	if code := send("192.0.2.10", fenbeitongPath, sampleFenbeitong("FBT-CAR-0921", 700)); code != http.StatusOK {
		t.Fatalf("right token: %d, want 200", code)
	}

	for _, c := range []struct {
		vendor, repeated string
		want             float64
	}{
		{"fenbeitong", "false", 2}, // the first failure of each source
		{"fenbeitong", "true", 5},
		{"autox3", "true", 1},
		{"autox3", "false", 0},
	} {
		labels := map[string]string{"vendor": c.vendor, "reason": "unauthorized", "repeated": c.repeated}
		if got := counter(t, f.metrics, "erpbridge_auth_failures_total", labels); got != c.want {
			t.Errorf("auth failures %v = %v, want %v", labels, got, c.want)
		}
	}
	var lines []map[string]any
	for _, rec := range logRecords(t, f.logs) {
		if rec["msg"] == "authentication failed" {
			lines = append(lines, rec)
		}
	}
	if len(lines) != 2 || lines[0]["source"] != "192.0.2.10" || lines[1]["source"] != "198.51.100.7" {
		t.Fatalf("auth failure log lines = %v, want one for each source", lines)
	}
	logs := f.logs.String()
	assertNoneOf(t, "logs", logs, fenbeitongPersonal...)
	assertNoneOf(t, "logs", logs, autoX3Personal...)
	assertNoneOf(t, "logs", logs, append(wrong, testToken)...)
	assertNoneOf(t, "metric labels", strings.Join(allLabelValues(t, f.metrics), " "), "192.0.2.10", "198.51.100.7")
}

// A push with the right token from outside FENBEITONG_ALLOWED_IPS counts as
// a failure with reason forbidden.
func TestAuthFailureForbiddenSource(t *testing.T) {
	f := newFixture(t, testConfig(t, map[string]string{"FENBEITONG_ALLOWED_IPS": "203.0.113.0/24"}))
	if rec := f.post(t, fenbeitongPath, "application/json", sampleFenbeitong("FBT-CAR-0930", 700)); rec.Code != http.StatusForbidden {
		t.Fatalf("push from outside the allow-list = %d, want 403", rec.Code)
	}
	labels := map[string]string{"vendor": "fenbeitong", "reason": "forbidden", "repeated": "false"}
	if got := counter(t, f.metrics, "erpbridge_auth_failures_total", labels); got != 1 {
		t.Errorf("auth failures %v = %v, want 1", labels, got)
	}
}

// autoX3Forged is a sample callback signed with another secret.
func autoX3Forged(t *testing.T) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(sampleAutoX3("msg-forged-0001"), &m); err != nil {
		t.Fatal(err)
	}
	m["msgSignature"] = json.RawMessage(`"` + strings.Repeat("A", 40) + `"`)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// postTo posts a JSON body over the network and records the answer.
func postTo(t *testing.T, url string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	return recorded(t, resp)
}

// gauge returns the value of the unlabelled gauge name.
func gauge(t *testing.T, f *fixture, name string) float64 {
	t.Helper()
	for _, mf := range gather(t, f.metrics) {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no gauge %s", name)
	return 0
}
