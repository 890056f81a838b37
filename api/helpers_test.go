package api_test

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"gorm.io/gorm"

	"github.com/erpbridge/erpbridge/api"
	"github.com/erpbridge/erpbridge/config"
	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/intake"
	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/internal/testkit"
	"github.com/erpbridge/erpbridge/metrics"
	"github.com/erpbridge/erpbridge/store"
)

const (
	testSecret = "autox3-app-secret-for-tests"
	testToken  = "fbt-url-token-7c1e93d2"
	// clientAddr is the RemoteAddr of requests that do not set one.
	clientAddr = "192.0.2.10:40000"
)

// startCall is one ExecuteWorkflow call the fake received.
type startCall struct {
	Options  client.StartWorkflowOptions
	Workflow any
	Args     []any
}

// fakeTemporal stands in for the Temporal client. Like the server with
// WorkflowExecutionErrorWhenAlreadyStarted, it refuses a second start of a
// workflow id with WorkflowExecutionAlreadyStarted.
type fakeTemporal struct {
	mu        sync.Mutex
	calls     []startCall
	started   map[string]bool
	startErr  error // returned by every ExecuteWorkflow when set
	healthErr error // returned by CheckHealth when set
}

func (f *fakeTemporal) ExecuteWorkflow(_ context.Context, opts client.StartWorkflowOptions, wf any, args ...any) (client.WorkflowRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, startCall{Options: opts, Workflow: wf, Args: args})
	if f.startErr != nil {
		return nil, f.startErr
	}
	if f.started == nil {
		f.started = map[string]bool{}
	}
	if f.started[opts.ID] {
		return nil, serviceerror.NewWorkflowExecutionAlreadyStarted("workflow execution already started", "", "run-first")
	}
	f.started[opts.ID] = true
	return fakeRun{id: opts.ID}, nil
}

func (f *fakeTemporal) CheckHealth(context.Context, *client.CheckHealthRequest) (*client.CheckHealthResponse, error) {
	if f.healthErr != nil {
		return nil, f.healthErr
	}
	return &client.CheckHealthResponse{}, nil
}

func (f *fakeTemporal) Calls() []startCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]startCall(nil), f.calls...)
}

// fakeRun answers only the identity methods: a handler that waited for the
// workflow's result (Get) would panic, and the test would see a 500.
type fakeRun struct {
	client.WorkflowRun
	id string
}

func (r fakeRun) GetID() string                  { return r.id }
func (r fakeRun) GetRunID() string               { return "run-" + r.id }
func (r fakeRun) GetFirstExecutionRunID() string { return "run-" + r.id }

// testConfig is a configuration read the way main reads it, from env.
func testConfig(t testing.TB, env map[string]string) config.Config {
	t.Helper()
	base := map[string]string{
		"AUTOX3_APP_SECRET": testSecret,
		"FENBEITONG_TOKEN":  testToken,
	}
	for k, v := range env {
		base[k] = v
	}
	cfg, err := config.FromEnv(func(k string) string { return base[k] })
	if err != nil {
		t.Fatalf("config.FromEnv: %v", err)
	}
	return cfg
}

// fixture is a router with its fakes, a fresh SQLite store and the relay.
type fixture struct {
	router   http.Handler
	temporal *fakeTemporal
	store    *store.Store
	db       *gorm.DB // the store's database
	relay    *intake.Relay
	relayErr error // what the relay's last drain said
	metrics  *metrics.Metrics
	logs     *testkit.Buffer
}

// newFixture builds the router on cfg with a fake Temporal, fresh metrics
// and a JSON logger writing to a buffer. mutate may adjust the deps.
func newFixture(t testing.TB, cfg config.Config, mutate ...func(*api.Deps)) *fixture {
	t.Helper()
	db := testenv.SQLite(t)
	f := &fixture{temporal: &fakeTemporal{}, store: store.New(db), db: db, metrics: metrics.New(), logs: &testkit.Buffer{}}
	log := slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f.relay = intake.NewRelay(f.store, f.temporal, cfg.Temporal.TaskQueue, f.metrics, log)
	d := api.Deps{
		Config:   cfg,
		Temporal: f.temporal,
		Store:    f.store,
		Relay:    f.relay,
		Metrics:  f.metrics,
		Logger:   log,
	}
	for _, m := range mutate {
		m(&d)
	}
	r, err := api.NewRouter(d)
	if err != nil {
		t.Fatalf("NewRouter: %v", err)
	}
	f.router = r
	return f
}

// post sends body to target with the given Content-Type ("" sends none).
func (f *fixture) post(t testing.TB, target, contentType string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	return f.postEncoded(t, target, contentType, "", body)
}

// postEncoded is post with a Content-Encoding ("" sends none).
func (f *fixture) postEncoded(t testing.TB, target, contentType, encoding string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	req.RemoteAddr = clientAddr
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	return f.serve(req)
}

// gzipped is b compressed with gzip.
func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// serve answers req, then lets the relay start what the request stored, as
// the relay of a running api would right after the answer.
func (f *fixture) serve(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	f.router.ServeHTTP(rec, req)
	f.relayErr = f.relay.Drain(req.Context())
	return rec
}

func (f *fixture) get(t testing.TB, target string) *httptest.ResponseRecorder {
	t.Helper()
	return f.serve(httptest.NewRequest(http.MethodGet, target, nil))
}

// autoX3Reply is AutoX3's answer shape.
type autoX3Reply struct {
	Data      json.RawMessage `json:"data"`
	ErrorInfo *string         `json:"errorInfo"`
	Status    *int            `json:"status"`
}

// decodeAutoX3 decodes an AutoX3 answer and checks it has exactly the three
// fields of the vendor's shape, data being null.
func decodeAutoX3(t testing.TB, rec *httptest.ResponseRecorder) autoX3Reply {
	t.Helper()
	return decodeReply[autoX3Reply](t, rec, "data", "errorInfo", "status")
}

// fenbeitongReply is Fenbeitong's answer shape.
type fenbeitongReply struct {
	Code *int            `json:"code"`
	Msg  *string         `json:"msg"`
	Data json.RawMessage `json:"data"`
}

// decodeFenbeitong decodes a Fenbeitong answer and checks it has exactly
// the three fields of the vendor's shape, data being null.
func decodeFenbeitong(t testing.TB, rec *httptest.ResponseRecorder) fenbeitongReply {
	t.Helper()
	return decodeReply[fenbeitongReply](t, rec, "code", "msg", "data")
}

// decodeReply decodes a vendor's JSON answer into R after checking it has
// exactly the members named: data null, every other one present and not null.
func decodeReply[R any](t testing.TB, rec *httptest.ResponseRecorder, members ...string) R {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type = %q, want application/json", ct)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(rec.Body.Bytes(), &fields); err != nil {
		t.Fatalf("answer is not a JSON object: %v: %s", err, rec.Body)
	}
	if len(fields) != len(members) {
		t.Fatalf("answer has fields %v, want %v: %s", keys(fields), members, rec.Body)
	}
	for _, m := range members {
		v, ok := fields[m]
		if !ok || (string(v) == "null") != (m == "data") {
			t.Fatalf("answer %s lacks data:null or a non-null %s (want the fields %v)", rec.Body, m, members)
		}
	}
	var r R
	if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
		t.Fatalf("decode answer: %v", err)
	}
	return r
}

// sampleCallback is a vendor's sample callback and the webhook it goes to.
type sampleCallback struct {
	name, target string
	body         []byte
}

// sampleCallbacks are a sample callback of each vendor: AutoX3's message
// msgID and Fenbeitong's order orderID.
func sampleCallbacks(msgID, orderID string) []sampleCallback {
	return []sampleCallback{
		{"autox3", autoX3Path, sampleAutoX3(msgID)},
		{"fenbeitong", fenbeitongPath, sampleFenbeitong(orderID, 700)},
	}
}

// refusalCase is a callback a vendor's webhook must refuse.
type refusalCase struct {
	name        string
	env         map[string]string // config overrides
	target      string            // the vendor's webhook path unless set
	contentType string            // application/json unless set
	encoding    string            // the Content-Encoding, none unless set
	body        []byte
	status      int
	outcome     string
	reason      string // substring of the answer's reason (AutoX3's errorInfo, Fenbeitong's msg)
}

// sharedRefusals are the refusals every webhook gives: 413 to a valid
// sample one byte over MAX_BODY_BYTES, as sent or once decompressed; 415,
// saying what to send, to a body labelled other than JSON that is not JSON
// either (formBody, xmlBody) and to a Content-Encoding other than gzip; 400
// to a body that is not the gzip it says it is.
func sharedRefusals(t *testing.T, sample []byte, formBody, xmlBody string) []refusalCase {
	limit := len(sample) - 1
	over := map[string]string{"MAX_BODY_BYTES": strconv.Itoa(limit)}
	zipped := gzipped(t, sample)
	return []refusalCase{
		{name: "body one byte over MAX_BODY_BYTES", env: over, body: sample,
			status: 413, outcome: "too_large", reason: fmt.Sprintf("body of %d bytes is over the limit of %d bytes", len(sample), limit)},
		{name: "gzip body one byte over MAX_BODY_BYTES once decompressed", env: over, encoding: "gzip", body: zipped,
			status: 413, outcome: "too_large", reason: fmt.Sprintf("body is over the limit of %d bytes once decompressed", limit)},
		{name: "brotli body", encoding: "br", body: sample, status: 415, outcome: "unsupported_media_type",
			reason: `Content-Encoding "br" is not supported; send the body uncompressed or with gzip`},
		{name: "two codings", encoding: "gzip, gzip", body: gzipped(t, zipped), status: 415, outcome: "unsupported_media_type",
			reason: `Content-Encoding "gzip, gzip" is not supported`},
		{name: "gzip label, plain body", encoding: "gzip", body: sample, status: 400, outcome: "malformed",
			reason: "Content-Encoding is gzip but the body is not gzip data"},
		{name: "gzip body cut short", encoding: "gzip", body: zipped[:len(zipped)/2], status: 400, outcome: "malformed",
			reason: "Content-Encoding is gzip but the gzip data is damaged or cut short"},
		{name: "form media type, form body", contentType: "application/x-www-form-urlencoded", body: []byte(formBody),
			status: 415, outcome: "unsupported_media_type",
			reason: `Content-Type "application/x-www-form-urlencoded" is not JSON and neither is the body; send a JSON body (application/json)`},
		{name: "XML media type, XML body", contentType: "text/xml", body: []byte(xmlBody),
			status: 415, outcome: "unsupported_media_type", reason: `Content-Type "text/xml" is not JSON and neither is the body`},
	}
}

// checkRefusals posts each case to the vendor's webhook at path, on a
// fixture of its own, and checks its refusal with checkRefusal.
func checkRefusals(t *testing.T, vendor, path string, cases []refusalCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, testConfig(t, c.env))
			rec := f.postEncoded(t, cmp.Or(c.target, path), cmp.Or(c.contentType, "application/json"), c.encoding, c.body)
			checkRefusal(t, f, rec, vendor, c.status, c.outcome, "unknown", c.reason)
			// A coding refused says which one is taken (RFC 7694).
			want := ""
			if c.status == http.StatusUnsupportedMediaType && c.encoding != "" {
				want = "gzip"
			}
			if got := rec.Header().Get("Accept-Encoding"); got != want {
				t.Errorf("Accept-Encoding = %q, want %q", got, want)
			}
		})
	}
}

// checkRefusal checks a refusal of a vendor's callback: the HTTP status and
// the same code in the vendor's answer, whose reason contains reason and no
// personal data or secret; that nothing was started (unless the engine
// itself failed); and that it was counted once under eventType and outcome,
// and not as a duplicate.
func checkRefusal(t *testing.T, f *fixture, rec *httptest.ResponseRecorder, vendor string, status int, outcome, eventType, reason string) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status = %d %s, want %d", rec.Code, rec.Body, status)
	}
	var code int
	var got string
	var private []string
	switch vendor {
	case "autox3":
		r := decodeAutoX3(t, rec)
		code, got, private = *r.Status, *r.ErrorInfo, autoX3Personal
	case "fenbeitong":
		r := decodeFenbeitong(t, rec)
		code, got, private = *r.Code, *r.Msg, append([]string{testToken}, fenbeitongPersonal...)
	default:
		t.Fatalf("checkRefusal: no vendor %q", vendor)
	}
	if code == 0 || code != status {
		t.Errorf("%s answer code = %d, want non-zero %d", vendor, code, status)
	}
	if !strings.Contains(got, reason) {
		t.Errorf("%s answer reason = %q, want it to contain %q", vendor, got, reason)
	}
	assertNoneOf(t, "answer", rec.Body.String(), private...)
	if n := len(f.temporal.Calls()); n != 0 && status != http.StatusServiceUnavailable {
		t.Errorf("ExecuteWorkflow called %d times for a refused %s callback", n, vendor)
	}
	labels := map[string]string{"vendor": vendor, "event_type": eventType, "outcome": outcome}
	if got := counter(t, f.metrics, "erpbridge_callbacks_total", labels); got != 1 {
		t.Errorf("callbacks_total%v = %v, want 1", labels, got)
	}
	if got := counter(t, f.metrics, "erpbridge_callback_duplicates_total", map[string]string{"vendor": vendor}); got != 0 {
		t.Errorf("callback_duplicates_total{%s} = %v, want 0", vendor, got)
	}
}

// recorded copies an answer received over the network into a recorder, to
// be checked as the router's own answers are.
func recorded(t testing.TB, resp *http.Response) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	rec.Code = resp.StatusCode
	for k, v := range resp.Header {
		rec.Header()[k] = v
	}
	if _, err := io.Copy(rec.Body, resp.Body); err != nil {
		t.Fatalf("read the answer: %v", err)
	}
	return rec
}

func keys(m map[string]json.RawMessage) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// counter returns the value of the counter name with exactly these labels
// (0 when the series does not exist).
func counter(t testing.TB, m *metrics.Metrics, name string, labels map[string]string) float64 {
	t.Helper()
	if s := series(t, m, name, labels); s != nil {
		return s.GetCounter().GetValue()
	}
	return 0
}

// histogramCount returns the sample count of the histogram name with these labels.
func histogramCount(t testing.TB, m *metrics.Metrics, name string, labels map[string]string) uint64 {
	t.Helper()
	if s := series(t, m, name, labels); s != nil {
		return s.GetHistogram().GetSampleCount()
	}
	return 0
}

// series is the series of metric name with exactly these labels, nil when
// there is none.
func series(t testing.TB, m *metrics.Metrics, name string, labels map[string]string) *dto.Metric {
	t.Helper()
	for _, mf := range gather(t, m) {
		if mf.GetName() != name {
			continue
		}
		for _, s := range mf.GetMetric() {
			if labelsEqual(s.GetLabel(), labels) {
				return s
			}
		}
	}
	return nil
}

func gather(t testing.TB, m *metrics.Metrics) []*dto.MetricFamily {
	t.Helper()
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatalf("gather metrics: %v", err)
	}
	return mfs
}

func labelsEqual(got []*dto.LabelPair, want map[string]string) bool {
	if len(got) != len(want) {
		return false
	}
	for _, lp := range got {
		if v, ok := want[lp.GetName()]; !ok || v != lp.GetValue() {
			return false
		}
	}
	return true
}

// allLabelValues lists every label value of every erpbridge_ series.
func allLabelValues(t testing.TB, m *metrics.Metrics) []string {
	t.Helper()
	var out []string
	for _, mf := range gather(t, m) {
		if !strings.HasPrefix(mf.GetName(), "erpbridge_") {
			continue
		}
		for _, s := range mf.GetMetric() {
			for _, lp := range s.GetLabel() {
				out = append(out, lp.GetValue())
			}
		}
	}
	return out
}

// logRecords decodes the JSON log lines written to b so far.
func logRecords(t testing.TB, b *testkit.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	dec := json.NewDecoder(strings.NewReader(b.String()))
	for {
		var rec map[string]any
		if err := dec.Decode(&rec); err == io.EOF {
			return out
		} else if err != nil {
			t.Fatalf("log output is not JSON lines: %v\n%s", err, b.String())
		}
		out = append(out, rec)
	}
}

// assertNoneOf fails when text holds any of the needles.
func assertNoneOf(t testing.TB, what, text string, needles ...string) {
	t.Helper()
	for _, n := range needles {
		if strings.Contains(text, n) {
			t.Errorf("%s contains %q:\n%s", what, n, text)
		}
	}
}

// bodyOf is the callback the edge stored for a workflow input: the claim
// check it carries must name it, and the input must not carry the body.
func (f *fixture) bodyOf(t testing.TB, in flow.EventInput) string {
	t.Helper()
	if in.ClaimCheck != flow.ClaimCheckFor(in.Vendor, in.EventKey) {
		t.Errorf("claim check = %q, want %q", in.ClaimCheck, flow.ClaimCheckFor(in.Vendor, in.EventKey))
	}
	body, ok, err := f.store.Callback(context.Background(), in.Vendor, in.EventKey)
	if err != nil || !ok {
		t.Fatalf("stored callback %s/%s: %v (found %v)", in.Vendor, in.EventKey, err, ok)
	}
	return string(body)
}
