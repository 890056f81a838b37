package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"

	"github.com/erpbridge/erpbridge/api"
	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/vendors"
	"github.com/erpbridge/erpbridge/vendors/fenbeitong"
)

const (
	fenbeitongPath = "/webhooks/fenbeitong?token=" + testToken
	fenbeitongOK   = `{"code":0,"data":null,"msg":"success"}`
)

// fenbeitongPersonal is personal data in Fenbeitong's sample: names and phone numbers.
var fenbeitongPersonal = []string{"张三", "13800000001", "13800000002", "13800000003", "test哒哒"}

func sampleFenbeitong(orderID string, status int) []byte {
	return fenbeitong.SampleBody(orderID, status, "2026-01-05 09:30:00")
}

// fenbeitongKey is the deduplication key the parser derives for body.
func fenbeitongKey(t testing.TB, body []byte) string {
	t.Helper()
	p, err := fenbeitong.ParsePush(body)
	if err != nil {
		t.Fatalf("ParsePush(sample): %v", err)
	}
	return p.EventKey()
}

// checkFenbeitongOK checks the answer that acknowledges a push.
func checkFenbeitongOK(t testing.TB, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d %s, want 200", rec.Code, rec.Body)
	}
	r := decodeFenbeitong(t, rec)
	if *r.Code != 0 || *r.Msg != "success" {
		t.Fatalf("answer = %s, want %s", rec.Body, fenbeitongOK)
	}
	if rec.Body.String() != fenbeitongOK {
		t.Errorf("answer = %s, want exactly %s", rec.Body, fenbeitongOK)
	}
}

func TestFenbeitongAcceptsSample(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testConfig(t, nil))
	body := sampleFenbeitong("FBT-CAR-0001", 700)
	key := fenbeitongKey(t, body)
	if !strings.HasPrefix(key, "3:FBT-CAR-0001:700:") {
		t.Fatalf("event key = %q, want 3:FBT-CAR-0001:700:<hash>", key)
	}
	before := time.Now().UTC()
	rec := f.post(t, fenbeitongPath, "application/json;charset=UTF-8", body)
	after := time.Now().UTC()
	checkFenbeitongOK(t, rec)

	calls := f.temporal.Calls()
	if len(calls) != 1 {
		t.Fatalf("ExecuteWorkflow called %d times, want 1", len(calls))
	}
	checkStartOptions(t, calls[0], "erpbridge", vendors.Fenbeitong, key, "car", before, after, fenbeitongPersonal)
	in := eventInput(t, calls[0])
	if in.Vendor != vendors.Fenbeitong || in.EventKey != key || in.EventType != "car" {
		t.Errorf("EventInput = {%s %s %s}, want {fenbeitong %s car}", in.Vendor, in.EventKey, in.EventType, key)
	}
	if f.bodyOf(t, in) != string(body) {
		t.Errorf("the stored callback is not byte-identical to the posted body")
	}
	labels := map[string]string{"vendor": "fenbeitong", "event_type": "car", "outcome": "accepted"}
	if got := counter(t, f.metrics, "erpbridge_callbacks_total", labels); got != 1 {
		t.Errorf("callbacks_total%v = %v, want 1", labels, got)
	}
}

func TestFenbeitongDuplicates(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testConfig(t, nil))
	body := sampleFenbeitong("FBT-CAR-0002", 700)
	var compact bytes.Buffer
	if err := json.Compact(&compact, body); err != nil {
		t.Fatal(err)
	}
	deliveries := []struct {
		name string
		body []byte
		dup  bool
	}{
		{"first delivery", body, false},
		{"same push again", body, true},
		{"same push without white space", compact.Bytes(), true},
		{"next status of the order", sampleFenbeitong("FBT-CAR-0002", 610), false},
	}
	dups := 0.0
	for i, d := range deliveries {
		rec := f.post(t, fenbeitongPath, "application/json", d.body)
		checkFenbeitongOK(t, rec)
		if d.dup {
			dups++
		}
		if got := counter(t, f.metrics, "erpbridge_callback_duplicates_total", map[string]string{"vendor": "fenbeitong"}); got != dups {
			t.Errorf("%s: callback_duplicates_total = %v, want %v", d.name, got, dups)
		}
		// A duplicate is known to the store and starts nothing; a new event starts its own workflow.
		calls := f.temporal.Calls()
		if want := i + 1 - int(dups); len(calls) != want {
			t.Fatalf("%s: ExecuteWorkflow called %d times, want %d", d.name, len(calls), want)
		}
		if !d.dup {
			if got, want := calls[len(calls)-1].Options.ID, flow.EventWorkflowID(vendors.Fenbeitong, fenbeitongKey(t, d.body)); got != want {
				t.Errorf("%s: workflow id = %q, want %q", d.name, got, want)
			}
		} else if key := flow.EventWorkflowID(vendors.Fenbeitong, fenbeitongKey(t, d.body)); key != calls[0].Options.ID {
			t.Errorf("%s: duplicate's key %q is not the first push's %q", d.name, key, calls[0].Options.ID)
		}
	}
	for outcome, want := range map[string]float64{"accepted": 2, "duplicate": 2} {
		labels := map[string]string{"vendor": "fenbeitong", "event_type": "car", "outcome": outcome}
		if got := counter(t, f.metrics, "erpbridge_callbacks_total", labels); got != want {
			t.Errorf("callbacks_total%v = %v, want %v", labels, got, want)
		}
	}
}

func TestFenbeitongRefusals(t *testing.T) {
	t.Parallel()
	sample := sampleFenbeitong("FBT-CAR-0003", 700)
	tests := []refusalCase{
		{name: "no token configured", env: map[string]string{"FENBEITONG_TOKEN": ""}, body: sample,
			status: 401, outcome: "unauthorized", reason: "no token is configured"},
		{name: "no token configured, empty token sent", env: map[string]string{"FENBEITONG_TOKEN": ""}, target: "/webhooks/fenbeitong?token=",
			body: sample, status: 401, outcome: "unauthorized", reason: "no token is configured"},
		{name: "no token", target: "/webhooks/fenbeitong", body: sample, status: 401, outcome: "unauthorized", reason: "missing token query parameter"},
		{name: "empty token", target: "/webhooks/fenbeitong?token=", body: sample, status: 401, outcome: "unauthorized", reason: "missing token query parameter"},
		{name: "token under another name", target: "/webhooks/fenbeitong?Token=" + testToken, body: sample,
			status: 401, outcome: "unauthorized", reason: "missing token query parameter"},
		{name: "wrong token", target: "/webhooks/fenbeitong?token=guessed-token", body: sample,
			status: 401, outcome: "unauthorized", reason: "token query parameter does not match"},
		{name: "token prefix", target: "/webhooks/fenbeitong?token=" + testToken[:len(testToken)-1], body: sample,
			status: 401, outcome: "unauthorized", reason: "token query parameter does not match"},
		{name: "token with a suffix", target: "/webhooks/fenbeitong?token=" + testToken + "x", body: sample,
			status: 401, outcome: "unauthorized", reason: "token query parameter does not match"},

		{name: "empty body", body: nil, status: 400, outcome: "malformed", reason: "empty body"},
		{name: "invalid UTF-8", body: []byte("{\"order_info\":\"\xff\"}"), status: 400, outcome: "malformed", reason: "not valid UTF-8"},
		{name: "not JSON", body: []byte(`{"order_info":`), status: 400, outcome: "malformed", reason: "body is not one JSON object"},
		{name: "JSON array", body: []byte(`[{"order_info":{}}]`), status: 400, outcome: "malformed", reason: "body is not one JSON object"},
		{name: "missing order_info", body: []byte(`{"user_info":{"name":"张三"}}`), status: 400, outcome: "malformed", reason: "order_info is missing"},
		{name: "order_info a string", body: []byte(`{"order_info":"x"}`), status: 400, outcome: "malformed", reason: "order_info is not an object"},
		{name: "missing order_id", body: []byte(`{"order_info":{"order_category_type":3}}`), status: 400, outcome: "malformed",
			reason: "order_info.order_id is missing"},
		{name: "order_id with a space", body: []byte(`{"order_info":{"order_id":"A B","order_category_type":3}}`), status: 400, outcome: "malformed",
			reason: "order_info.order_id must be printable ASCII without spaces"},
		{name: "order_id too long", body: []byte(`{"order_info":{"order_id":"` + strings.Repeat("9", 65) + `","order_category_type":3}}`),
			status: 400, outcome: "malformed", reason: "order_info.order_id is longer than 64 characters"},
		{name: "missing order_category_type", body: []byte(`{"order_info":{"order_id":"FBT-1"}}`), status: 400, outcome: "malformed",
			reason: "order_info.order_category_type is missing"},

		// Any media type is taken when the body is JSON (see TestFenbeitongMediaTypesAccepted);
		// labelled other than JSON and not JSON either, it is 415 (sharedRefusals).
		{name: "form media type, wrong token", target: "/webhooks/fenbeitong?token=guessed-token", contentType: "application/x-www-form-urlencoded",
			body: sample, status: 401, outcome: "unauthorized", reason: "token query parameter does not match"},
	}
	tests = append(tests, sharedRefusals(t, sample, "order_id=1&status=700", `<order id="1"/>`)...)
	checkRefusals(t, "fenbeitong", fenbeitongPath, tests)
}

func TestFenbeitongMediaTypesAccepted(t *testing.T) {
	t.Parallel()
	for _, ct := range []string{"", "application/json", "application/json; charset=utf-8",
		"application/x-www-form-urlencoded", "text/xml", "application/octet-stream"} {
		t.Run(fmt.Sprintf("%q", ct), func(t *testing.T) {
			f := newFixture(t, testConfig(t, nil))
			checkFenbeitongOK(t, f.post(t, fenbeitongPath, ct, sampleFenbeitong("FBT-CAR-0004", 700)))
			if n := len(f.temporal.Calls()); n != 1 {
				t.Errorf("ExecuteWorkflow called %d times, want 1", n)
			}
		})
	}
}

func TestFenbeitongBodyLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testConfig(t, nil))
	body := sampleFenbeitong("FBT-CAR-0005", 700)
	over := append(bytes.Clone(body), bytes.Repeat([]byte("\n"), 1<<20+1-len(body))...)
	rec := f.post(t, fenbeitongPath, "application/json", over)
	checkRefusal(t, f, rec, "fenbeitong", http.StatusRequestEntityTooLarge, "too_large", "unknown",
		"body of 1048577 bytes is over the limit of 1048576 bytes")

	// Chunked, without Content-Length.
	req := httptest.NewRequest(http.MethodPost, fenbeitongPath, struct{ *bytes.Reader }{bytes.NewReader(over)})
	req.RemoteAddr = clientAddr
	if req.ContentLength != -1 {
		t.Fatalf("request ContentLength = %d, want unknown (-1)", req.ContentLength)
	}
	rec = f.serve(req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked: status = %d %s, want 413", rec.Code, rec.Body)
	}
	if r := decodeFenbeitong(t, rec); *r.Code != 413 || !strings.Contains(*r.Msg, "body is over the limit of 1048576 bytes") {
		t.Errorf("chunked: answer = %s", rec.Body)
	}
}

func TestFenbeitongWorkflowEngineFailures(t *testing.T) {
	t.Parallel()
	t.Run("temporal unavailable: stored, acknowledged, started later", func(t *testing.T) {
		f := newFixture(t, testConfig(t, nil))
		f.temporal.startErr = serviceerror.NewUnavailable("connection refused")
		rec := f.post(t, fenbeitongPath, "application/json", sampleFenbeitong("FBT-CAR-0006", 700))
		if rec.Code != http.StatusOK || rec.Body.String() != fenbeitongOK {
			t.Fatalf("answer = %d %s, want 200 %s", rec.Code, rec.Body, fenbeitongOK)
		}
		if n, _, _ := f.store.Backlog(t.Context()); n != 1 {
			t.Fatalf("backlog = %d, want 1", n)
		}
		f.temporal.mu.Lock()
		f.temporal.startErr = nil
		f.temporal.mu.Unlock()
		if err := f.relay.Drain(t.Context()); err != nil {
			t.Fatal(err)
		}
		if n, _, _ := f.store.Backlog(t.Context()); n != 0 {
			t.Fatalf("backlog = %d after Temporal came back, want 0", n)
		}
	})
	t.Run("store unreachable", func(t *testing.T) {
		f := newFixture(t, testConfig(t, nil), func(d *api.Deps) { d.Store = closedStore(t) })
		rec := f.post(t, fenbeitongPath, "application/json", sampleFenbeitong("FBT-CAR-0006", 700))
		if rec.Code != http.StatusOK || rec.Body.String() != fenbeitongOK {
			t.Fatalf("answer = %d %s, want 200 %s: kept through Temporal", rec.Code, rec.Body, fenbeitongOK)
		}
		if calls := f.temporal.Calls(); len(calls) != 1 || len(eventInput(t, calls[0]).Body) == 0 {
			t.Fatalf("the push was not carried in its workflow's start: %d starts", len(calls))
		}
	})
	t.Run("store and Temporal unreachable", func(t *testing.T) {
		f := newFixture(t, testConfig(t, nil), func(d *api.Deps) { d.Store = closedStore(t) })
		f.temporal.startErr = serviceerror.NewUnavailable("connection refused")
		rec := f.post(t, fenbeitongPath, "application/json", sampleFenbeitong("FBT-CAR-0006", 700))
		checkRefusal(t, f, rec, "fenbeitong", http.StatusServiceUnavailable, "unavailable", "car", "could not keep the callback durably; deliver again later")
	})
}

func TestFenbeitongSourceAddress(t *testing.T) {
	t.Parallel()
	const allowList = "203.0.113.0/24, 198.51.100.7, 2001:db8::/32"
	tests := []struct {
		name       string
		proxies    string // TRUSTED_PROXIES
		remoteAddr string
		headers    map[string]string
		allowed    bool
	}{
		{name: "address inside an allowed CIDR", remoteAddr: "203.0.113.9:5000", allowed: true},
		{name: "allowed single address", remoteAddr: "198.51.100.7:5000", allowed: true},
		{name: "neighbour of the single address", remoteAddr: "198.51.100.8:5000"},
		{name: "address outside every entry", remoteAddr: "192.0.2.1:5000"},
		{name: "IPv4-mapped IPv6 of an allowed address", remoteAddr: "[::ffff:203.0.113.9]:5000", allowed: true},
		{name: "IPv6 inside an allowed CIDR", remoteAddr: "[2001:db8::42]:5000", allowed: true},
		{name: "IPv6 outside", remoteAddr: "[2001:db9::42]:5000"},
		{name: "X-Forwarded-For ignored when no proxy is trusted", remoteAddr: "192.0.2.1:5000",
			headers: map[string]string{"X-Forwarded-For": "203.0.113.9"}},
		{name: "X-Real-IP ignored when no proxy is trusted", remoteAddr: "192.0.2.1:5000",
			headers: map[string]string{"X-Real-IP": "203.0.113.9"}},

		{name: "trusted proxy forwards an allowed client", proxies: "10.0.0.0/8", remoteAddr: "10.1.2.3:5000",
			headers: map[string]string{"X-Forwarded-For": "203.0.113.9"}, allowed: true},
		{name: "trusted single-address proxy forwards an allowed client", proxies: "10.1.2.3", remoteAddr: "10.1.2.3:5000",
			headers: map[string]string{"X-Forwarded-For": "198.51.100.7"}, allowed: true},
		{name: "trusted proxy forwards a client not allowed", proxies: "10.0.0.0/8", remoteAddr: "10.1.2.3:5000",
			headers: map[string]string{"X-Forwarded-For": "192.0.2.1"}},
		{name: "client-written X-Forwarded-For entry before the proxy's is not believed", proxies: "10.0.0.0/8", remoteAddr: "10.1.2.3:5000",
			headers: map[string]string{"X-Forwarded-For": "203.0.113.9, 192.0.2.1"}},
		{name: "trusted proxy forwards an IPv4-mapped allowed client", proxies: "10.0.0.0/8", remoteAddr: "10.1.2.3:5000",
			headers: map[string]string{"X-Forwarded-For": "::ffff:203.0.113.9"}, allowed: true},
		{name: "chain of trusted proxies", proxies: "10.0.0.0/8", remoteAddr: "10.1.2.3:5000",
			headers: map[string]string{"X-Forwarded-For": "203.0.113.9, 10.9.9.9"}, allowed: true},
		{name: "untrusted peer's X-Forwarded-For is ignored", proxies: "10.0.0.0/8", remoteAddr: "192.0.2.1:5000",
			headers: map[string]string{"X-Forwarded-For": "203.0.113.9"}},
		{name: "X-Real-IP not believed even from a trusted proxy", proxies: "10.0.0.0/8", remoteAddr: "10.1.2.3:5000",
			headers: map[string]string{"X-Real-IP": "203.0.113.9"}},
		{name: "trusted proxy without X-Forwarded-For is the client", proxies: "10.0.0.0/8", remoteAddr: "10.1.2.3:5000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, testConfig(t, map[string]string{"FENBEITONG_ALLOWED_IPS": allowList, "TRUSTED_PROXIES": tt.proxies}))
			req := httptest.NewRequest(http.MethodPost, fenbeitongPath, bytes.NewReader(sampleFenbeitong("FBT-CAR-0007", 700)))
			req.Header.Set("Content-Type", "application/json")
			req.RemoteAddr = tt.remoteAddr
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			rec := f.serve(req)
			if tt.allowed {
				checkFenbeitongOK(t, rec)
				return
			}
			checkRefusal(t, f, rec, "fenbeitong", http.StatusForbidden, "forbidden", "unknown",
				"source address is not in FENBEITONG_ALLOWED_IPS")
		})
	}

	t.Run("the token is checked before the address", func(t *testing.T) {
		f := newFixture(t, testConfig(t, map[string]string{"FENBEITONG_ALLOWED_IPS": allowList}))
		rec := f.post(t, "/webhooks/fenbeitong?token=wrong", "application/json", sampleFenbeitong("FBT-CAR-0007", 700))
		checkRefusal(t, f, rec, "fenbeitong", http.StatusUnauthorized, "unauthorized", "unknown", "token query parameter does not match")
	})
	t.Run("no allow-list accepts any address", func(t *testing.T) {
		f := newFixture(t, testConfig(t, nil))
		req := httptest.NewRequest(http.MethodPost, fenbeitongPath, bytes.NewReader(sampleFenbeitong("FBT-CAR-0007", 700)))
		req.RemoteAddr = "192.0.2.200:5000"
		checkFenbeitongOK(t, f.serve(req))
	})
}
