package api_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"

	"github.com/erpbridge/erpbridge/api"
	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/vendors"
	"github.com/erpbridge/erpbridge/vendors/autox3"
	"github.com/erpbridge/erpbridge/workflows"
)

const (
	autoX3Path = "/webhooks/autox3"
	// autoX3OK is the exact answer that stops AutoX3 redelivering.
	autoX3OK     = `{"data":null,"errorInfo":"","status":0}`
	sampleTimeMs = 1767225600000 // 2026-01-01T00:00:00Z
)

// autoX3Personal is personal data in AutoX3's sample: phone numbers, plate,
// names and VIN. None of it may leave the handler except inside the body.
var autoX3Personal = []string{"17666166190", "15010524574", "JING", "xiaohaha", "Brown", "哆啦", "yang xing", "123456"}

func sampleAutoX3(msgID string) []byte {
	return autox3.SampleReceptionBody(msgID, 90001, sampleTimeMs, testSecret)
}

// withField returns body with the top-level field key set to raw (deleted when raw is nil).
func withField(t testing.TB, body []byte, key string, raw any) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("sample is not a JSON object: %v", err)
	}
	switch v := raw.(type) {
	case nil:
		delete(m, key)
	case string:
		m[key] = json.RawMessage(v)
	default:
		t.Fatalf("withField: unsupported value %T", raw)
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatalf("re-encode sample: %v", err)
	}
	return out
}

// padTo appends spaces after the JSON object until body is n bytes long.
func padTo(t testing.TB, body []byte, n int) []byte {
	t.Helper()
	if len(body) > n {
		t.Fatalf("body of %d bytes is already over %d", len(body), n)
	}
	return append(bytes.Clone(body), bytes.Repeat([]byte(" "), n-len(body))...)
}

func TestAutoX3AcceptsSignedCallbacks(t *testing.T) {
	t.Parallel()
	lowerSig := func(b []byte) []byte {
		var env struct {
			MsgSignature string `json:"msgSignature"`
		}
		if err := json.Unmarshal(b, &env); err != nil {
			t.Fatal(err)
		}
		return bytes.Replace(b, []byte(env.MsgSignature), []byte(strings.ToLower(env.MsgSignature)), 1)
	}
	tests := []struct {
		name    string
		body    []byte
		msgID   string
		msgType string
	}{
		{"reception order sample", sampleAutoX3("msg-rcv-0001"), "msg-rcv-0001", autox3.MsgTypeReceptionCreate},
		{"inspection report", autox3.SampleReportBody("msg-rpt-0001", 90001, sampleTimeMs, testSecret), "msg-rpt-0001", autox3.MsgTypeReport},
		{"maintenance plan", autox3.SampleMaintenanceBody("msg-mnt-0001", 90001, sampleTimeMs, testSecret), "msg-mnt-0001", autox3.MsgTypeMaintenance},
		{"maintenance v2 with string content", autox3.SampleMaintenanceV2Body("msg-mv2-0001", 900010, sampleTimeMs, testSecret), "msg-mv2-0001", autox3.MsgTypeMaintenanceV2},
		{"unknown message type", autox3.BuildBody("msg-new-0001", "event.autox3.order.something.new", sampleTimeMs,
			json.RawMessage(`{"staffId":1}`), json.RawMessage(`{"receiveBaseId":90001}`), false, testSecret), "msg-new-0001", "event.autox3.order.something.new"},
		{"lower-case signature", lowerSig(sampleAutoX3("msg-low-0001")), "msg-low-0001", autox3.MsgTypeReceptionCreate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, testConfig(t, nil))
			rec := f.post(t, autoX3Path, "application/json", tt.body)
			if rec.Code != http.StatusOK || rec.Body.String() != autoX3OK {
				t.Fatalf("answer = %d %s, want 200 %s", rec.Code, rec.Body, autoX3OK)
			}
			calls := f.temporal.Calls()
			if len(calls) != 1 {
				t.Fatalf("ExecuteWorkflow called %d times, want 1", len(calls))
			}
			if want := flow.EventWorkflowID(vendors.AutoX3, tt.msgID); calls[0].Options.ID != want {
				t.Errorf("workflow id = %q, want %q", calls[0].Options.ID, want)
			}
			if !calls[0].Options.EnableEagerStart {
				t.Errorf("the relay's start does not ask for eager start")
			}
			in := eventInput(t, calls[0])
			if in.Vendor != vendors.AutoX3 || in.EventKey != tt.msgID || in.EventType != tt.msgType {
				t.Errorf("EventInput = %+v, want vendor %s, key %s, type %s", in, vendors.AutoX3, tt.msgID, tt.msgType)
			}
			if f.bodyOf(t, in) != string(tt.body) {
				t.Errorf("the stored callback differs from the posted body")
			}
			labels := map[string]string{"vendor": "autox3", "event_type": tt.msgType, "outcome": "accepted"}
			if got := counter(t, f.metrics, "erpbridge_callbacks_total", labels); got != 1 {
				t.Errorf("callbacks_total%v = %v, want 1", labels, got)
			}
			if got := histogramCount(t, f.metrics, "erpbridge_callback_ack_seconds", map[string]string{"vendor": "autox3", "outcome": "accepted"}); got != 1 {
				t.Errorf("ack_seconds count = %d, want 1", got)
			}
		})
	}
}

// eventInput returns the single flow.EventInput argument of a start.
func eventInput(t testing.TB, c startCall) flow.EventInput {
	t.Helper()
	if len(c.Args) != 1 {
		t.Fatalf("workflow started with %d arguments, want 1", len(c.Args))
	}
	in, ok := c.Args[0].(flow.EventInput)
	if !ok {
		t.Fatalf("workflow argument is %T, want flow.EventInput", c.Args[0])
	}
	return in
}

// checkStartOptions checks what every event start must carry.
func checkStartOptions(t *testing.T, c startCall, taskQueue, vendor, key, eventType string, before, after time.Time, personal []string) {
	t.Helper()
	o := c.Options
	if want := flow.EventWorkflowID(vendor, key); o.ID != want {
		t.Errorf("ID = %q, want %q", o.ID, want)
	}
	if o.TaskQueue != taskQueue {
		t.Errorf("TaskQueue = %q, want %q", o.TaskQueue, taskQueue)
	}
	if o.WorkflowIDReusePolicy != enums.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE {
		t.Errorf("WorkflowIDReusePolicy = %v, want REJECT_DUPLICATE", o.WorkflowIDReusePolicy)
	}
	if o.WorkflowIDConflictPolicy != enums.WORKFLOW_ID_CONFLICT_POLICY_FAIL {
		t.Errorf("WorkflowIDConflictPolicy = %v, want FAIL", o.WorkflowIDConflictPolicy)
	}
	if !o.WorkflowExecutionErrorWhenAlreadyStarted {
		t.Error("WorkflowExecutionErrorWhenAlreadyStarted = false, want true")
	}
	if reflect.ValueOf(c.Workflow).Pointer() != reflect.ValueOf(workflows.EventWorkflow).Pointer() {
		t.Errorf("workflow = %T, want workflows.EventWorkflow", c.Workflow)
	}

	sa := o.TypedSearchAttributes
	if sa.Size() != 3 {
		t.Errorf("search attributes have %d keys, want Vendor, EventType and SyncStatus: %v", sa.Size(), sa.GetUntypedValues())
	}
	for _, want := range []struct {
		key   string
		get   func() (string, bool)
		value string
	}{
		{"Vendor", func() (string, bool) { return sa.GetKeyword(flow.AttrVendor) }, vendor},
		{"EventType", func() (string, bool) { return sa.GetKeyword(flow.AttrEventType) }, eventType},
		{"SyncStatus", func() (string, bool) { return sa.GetKeyword(flow.AttrSyncStatus) }, string(flow.EventRunning)},
	} {
		if v, ok := want.get(); !ok || v != want.value {
			t.Errorf("search attribute %s = %q (set %v), want %q", want.key, v, ok, want.value)
		}
	}

	in := eventInput(t, c)
	before = before.Truncate(time.Millisecond) // the store keeps times to the millisecond
	if in.ReceivedAt.Before(before) || in.ReceivedAt.After(after) || in.ReceivedAt.Location() != time.UTC {
		t.Errorf("ReceivedAt = %v, want UTC between %v and %v", in.ReceivedAt, before, after)
	}
	wantMemo := map[string]any{"vendor": vendor, "event_type": eventType, "origin": "callback", "received_at": in.ReceivedAt.Format(time.RFC3339)}
	if !reflect.DeepEqual(o.Memo, wantMemo) {
		t.Errorf("Memo = %v, want %v", o.Memo, wantMemo)
	}
	visible := fmt.Sprintf("%s %v %v", o.ID, o.Memo, sa.GetUntypedValues())
	assertNoneOf(t, "workflow id, memo and search attributes", visible, personal...)
}

func TestAutoX3StartOptions(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testConfig(t, map[string]string{"TEMPORAL_TASK_QUEUE": "erpbridge-test-queue"}))
	body := sampleAutoX3("msg-opts-0001")
	before := time.Now().UTC()
	rec := f.post(t, autoX3Path, "application/json", body)
	after := time.Now().UTC()
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d %s, want 200", rec.Code, rec.Body)
	}
	calls := f.temporal.Calls()
	if len(calls) != 1 {
		t.Fatalf("ExecuteWorkflow called %d times, want 1", len(calls))
	}
	checkStartOptions(t, calls[0], "erpbridge-test-queue", vendors.AutoX3, "msg-opts-0001", autox3.MsgTypeReceptionCreate, before, after, autoX3Personal)
	if got := f.bodyOf(t, eventInput(t, calls[0])); got != string(body) {
		t.Errorf("the stored callback is not byte-identical to the posted body:\n got %q\nwant %q", got, body)
	}
}

func TestAutoX3Duplicate(t *testing.T) {
	t.Parallel()
	t.Run("redelivery of the same message", func(t *testing.T) {
		f := newFixture(t, testConfig(t, nil))
		body := sampleAutoX3("msg-dup-0001")
		for i := range 2 {
			rec := f.post(t, autoX3Path, "application/json", body)
			if rec.Code != http.StatusOK || rec.Body.String() != autoX3OK {
				t.Fatalf("delivery %d: answer = %d %s, want 200 %s", i+1, rec.Code, rec.Body, autoX3OK)
			}
		}
		// The store knows the redelivery: it is answered as a duplicate and starts nothing.
		if calls := f.temporal.Calls(); len(calls) != 1 {
			t.Fatalf("want one start, got %d", len(calls))
		}
		if got := counter(t, f.metrics, "erpbridge_callback_duplicates_total", map[string]string{"vendor": "autox3"}); got != 1 {
			t.Errorf("callback_duplicates_total = %v, want 1", got)
		}
		for outcome, want := range map[string]float64{"accepted": 1, "duplicate": 1} {
			labels := map[string]string{"vendor": "autox3", "event_type": autox3.MsgTypeReceptionCreate, "outcome": outcome}
			if got := counter(t, f.metrics, "erpbridge_callbacks_total", labels); got != want {
				t.Errorf("callbacks_total%v = %v, want %v", labels, got, want)
			}
		}
	})
	t.Run("wrapped already-started error", func(t *testing.T) {
		f := newFixture(t, testConfig(t, nil))
		f.temporal.startErr = fmt.Errorf("start workflow: %w",
			serviceerror.NewWorkflowExecutionAlreadyStarted("workflow execution already started", "", "run-1"))
		rec := f.post(t, autoX3Path, "application/json", sampleAutoX3("msg-dup-0002"))
		if rec.Code != http.StatusOK || rec.Body.String() != autoX3OK {
			t.Fatalf("answer = %d %s, want 200 %s", rec.Code, rec.Body, autoX3OK)
		}
		// The relay takes a workflow that exists already as started, and leaves no backlog.
		if got := counter(t, f.metrics, "erpbridge_relay_starts_total", map[string]string{"vendor": "autox3", "outcome": "duplicate"}); got != 1 {
			t.Errorf("relay_starts_total{duplicate} = %v, want 1", got)
		}
		if n, _, err := f.store.Backlog(t.Context()); err != nil || n != 0 {
			t.Errorf("backlog = %d (%v), want 0", n, err)
		}
	})
}

func TestAutoX3Refusals(t *testing.T) {
	t.Parallel()
	sample := sampleAutoX3("msg-ref-0001")
	otherSecret := autox3.SampleReceptionBody("msg-ref-0001", 90001, sampleTimeMs, "not-the-configured-secret")
	const mismatch = "msgSignature does not match"
	tests := []refusalCase{
		{name: "no app secret configured", env: map[string]string{"AUTOX3_APP_SECRET": ""}, body: sample,
			status: 401, outcome: "unauthorized", reason: "no app secret is configured"},
		{name: "signed with another secret", body: otherSecret, status: 401, outcome: "unauthorized", reason: mismatch},
		{name: "content changed after signing", body: bytes.Replace(sample, []byte("Brown"), []byte("Green"), 1),
			status: 401, outcome: "unauthorized", reason: mismatch},
		{name: "msgType changed after signing", body: withField(t, sample, "msgType", `"event.autox3.order.detection.finish.report"`),
			status: 401, outcome: "unauthorized", reason: mismatch},
		{name: "msgId changed after signing", body: withField(t, sample, "msgId", `"msg-ref-0002"`),
			status: 401, outcome: "unauthorized", reason: mismatch},
		{name: "createTime changed after signing", body: withField(t, sample, "createTime", `1767225600001`),
			status: 401, outcome: "unauthorized", reason: mismatch},

		{name: "empty body", body: nil, status: 400, outcome: "malformed", reason: "empty body"},
		{name: "white space only", body: []byte(" \n "), status: 400, outcome: "malformed", reason: "body is empty"},
		{name: "invalid UTF-8", body: []byte("{\"msgId\":\"\xff\xfe\"}"), status: 400, outcome: "malformed", reason: "not valid UTF-8"},
		{name: "not JSON", body: []byte(`{"msgId":`), status: 400, outcome: "malformed", reason: "body is not valid JSON"},
		{name: "JSON array", body: []byte(`[1,2,3]`), status: 400, outcome: "malformed", reason: "body must be a JSON object"},
		{name: "data after the object", body: append(bytes.Clone(sample), `{}`...), status: 400, outcome: "malformed", reason: "data after the JSON object"},
		{name: "duplicate top-level key", body: append([]byte(`{"msgId":"msg-x",`), sample[1:]...),
			status: 400, outcome: "malformed", reason: `duplicate top-level key "msgId"`},
		{name: "missing msgId", body: withField(t, sample, "msgId", nil), status: 400, outcome: "malformed", reason: "missing field msgId"},
		{name: "empty msgId", body: withField(t, sample, "msgId", `""`), status: 400, outcome: "malformed", reason: "field msgId must not be empty"},
		{name: "msgId with a space", body: withField(t, sample, "msgId", `"msg 1"`), status: 400, outcome: "malformed",
			reason: "field msgId must contain only printable ASCII characters without spaces"},
		{name: "msgId too long", body: withField(t, sample, "msgId", `"`+strings.Repeat("m", autox3.MaxMsgIDLen+1)+`"`),
			status: 400, outcome: "malformed", reason: "field msgId must be at most 128 characters"},
		{name: "msgId a number", body: withField(t, sample, "msgId", `42`), status: 400, outcome: "malformed", reason: "field msgId must be a string"},
		{name: "missing msgType", body: withField(t, sample, "msgType", nil), status: 400, outcome: "malformed", reason: "missing field msgType"},
		{name: "missing createTime", body: withField(t, sample, "createTime", nil), status: 400, outcome: "malformed", reason: "missing field createTime"},
		{name: "createTime not a number", body: withField(t, sample, "createTime", `"yesterday"`), status: 400, outcome: "malformed",
			reason: "field createTime must be an integer epoch-milliseconds timestamp"},
		{name: "createTime zero", body: withField(t, sample, "createTime", `0`), status: 400, outcome: "malformed", reason: "field createTime is out of range"},
		{name: "missing msgSignature", body: withField(t, sample, "msgSignature", nil), status: 400, outcome: "malformed", reason: "missing field msgSignature"},
		{name: "msgSignature not hex", body: withField(t, sample, "msgSignature", `"`+strings.Repeat("z", 40)+`"`), status: 400, outcome: "malformed",
			reason: "field msgSignature must be a string of 40 hexadecimal characters"},
		{name: "msgSignature too short", body: withField(t, sample, "msgSignature", `"ABCDEF"`), status: 400, outcome: "malformed",
			reason: "field msgSignature must be a string of 40 hexadecimal characters"},
		// Absent is taken as null, which the sample was not signed over.
		{name: "staffInfo dropped after signing", body: withField(t, sample, "staffInfo", nil), status: 401, outcome: "unauthorized", reason: mismatch},
		{name: "staffInfo an array", body: withField(t, sample, "staffInfo", `[]`), status: 400, outcome: "malformed", reason: "field staffInfo must be a JSON object"},
		{name: "missing content", body: withField(t, sample, "content", nil), status: 400, outcome: "malformed", reason: "missing field content"},
		{name: "null content", body: withField(t, sample, "content", `null`), status: 400, outcome: "malformed", reason: "missing field content"},
		{name: "content a number", body: withField(t, sample, "content", `7`), status: 400, outcome: "malformed",
			reason: "field content must be a JSON object, array or string"},

		// Any media type is taken when the body is JSON (see TestAutoX3MediaTypes);
		// labelled other than JSON and not JSON either, it is 415 (and sharedRefusals).
		{name: "unparsable media type, truncated body", contentType: "application/json; charset", body: sample[:len(sample)-1],
			status: 415, outcome: "unsupported_media_type", reason: "is not JSON and neither is the body"},
		{name: "form media type, signed with another secret", contentType: "application/x-www-form-urlencoded", body: otherSecret,
			status: 401, outcome: "unauthorized", reason: mismatch},
		// Labelled JSON, a body that is not JSON is the vendor's own 400, as before.
		{name: "JSON media type, form body", body: []byte("msgId=m-1&msgType=x"), status: 400, outcome: "malformed",
			reason: "body is not valid JSON"},
	}
	tests = append(tests, sharedRefusals(t, sample, "msgId=m-1&msgType=x", `<msg id="1"/>`)...)
	checkRefusals(t, "autox3", autoX3Path, tests)
}

func TestAutoX3MediaTypes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		contentType string
		status      int
	}{
		{"", http.StatusOK},
		{"application/json", http.StatusOK},
		{"application/json; charset=utf-8", http.StatusOK},
		{"Application/JSON; charset=UTF-8", http.StatusOK},
		{"text/plain; charset=utf-8", http.StatusOK}, // some senders label JSON so
		// Java's HttpURLConnection default: the body decides, and it is JSON.
		{"application/x-www-form-urlencoded", http.StatusOK},
		{"application/x-www-form-urlencoded; charset=UTF-8", http.StatusOK},
		{"text/xml", http.StatusOK},
		{"application/xml", http.StatusOK},
		{"multipart/form-data; boundary=x", http.StatusOK},
		{"application/json; charset", http.StatusOK}, // unparsable, but the body is JSON
		{"application/octet-stream", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.contentType), func(t *testing.T) {
			f := newFixture(t, testConfig(t, nil))
			rec := f.post(t, autoX3Path, tt.contentType, sampleAutoX3("msg-ct-0001"))
			if tt.status == http.StatusOK {
				if rec.Code != http.StatusOK || rec.Body.String() != autoX3OK {
					t.Fatalf("answer = %d %s, want 200 %s", rec.Code, rec.Body, autoX3OK)
				}
				if n := len(f.temporal.Calls()); n != 1 {
					t.Fatalf("ExecuteWorkflow called %d times, want 1", n)
				}
				return
			}
			t.Fatalf("status %d is not a case of this test", tt.status)
		})
	}
}

func TestAutoX3BodyLimit(t *testing.T) {
	t.Parallel()
	const limit = 1 << 20 // the default MAX_BODY_BYTES
	cfg := testConfig(t, nil)
	if cfg.HTTP.MaxBodyBytes != limit {
		t.Fatalf("default MaxBodyBytes = %d, want %d", cfg.HTTP.MaxBodyBytes, limit)
	}

	t.Run("exactly the limit is accepted", func(t *testing.T) {
		f := newFixture(t, cfg)
		body := padTo(t, sampleAutoX3("msg-lim-0001"), limit)
		rec := f.post(t, autoX3Path, "application/json", body)
		if rec.Code != http.StatusOK || rec.Body.String() != autoX3OK {
			t.Fatalf("answer = %d %s, want 200", rec.Code, rec.Body)
		}
		calls := f.temporal.Calls()
		if len(calls) != 1 || f.bodyOf(t, eventInput(t, calls[0])) != string(body) {
			t.Fatal("the body at the limit did not reach the workflow byte for byte")
		}
	})

	t.Run("one byte over the limit with Content-Length", func(t *testing.T) {
		f := newFixture(t, cfg)
		rec := f.post(t, autoX3Path, "application/json", padTo(t, sampleAutoX3("msg-lim-0002"), limit+1))
		checkRefusal(t, f, rec, "autox3", http.StatusRequestEntityTooLarge, "too_large", "unknown",
			"body of 1048577 bytes is over the limit of 1048576 bytes")
	})

	// Over a real connection, a body of unknown length travels chunked
	// and only the read limit can stop it.
	for _, tt := range []struct {
		name   string
		size   int
		status int
	}{
		{"chunked body at the limit", limit, http.StatusOK},
		{"chunked body one byte over the limit", limit + 1, http.StatusRequestEntityTooLarge},
		{"chunked body far over the limit", 8 * limit, http.StatusRequestEntityTooLarge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, cfg)
			var sawLength int64
			var sawEncoding []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				sawLength, sawEncoding = r.ContentLength, r.TransferEncoding
				f.router.ServeHTTP(w, r)
				f.relayErr = f.relay.Drain(r.Context())
			}))
			defer srv.Close()

			body := padTo(t, sampleAutoX3("msg-lim-0003"), tt.size)
			// A reader of unknown length makes the client send chunked.
			req, err := http.NewRequest(http.MethodPost, srv.URL+autoX3Path, struct{ io.Reader }{bytes.NewReader(body)})
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatalf("POST: %v", err)
			}
			defer resp.Body.Close()
			if sawLength != -1 || len(sawEncoding) != 1 || sawEncoding[0] != "chunked" {
				t.Fatalf("request arrived with Content-Length %d, Transfer-Encoding %v; want a chunked body", sawLength, sawEncoding)
			}
			rec := recorded(t, resp)
			if tt.status == http.StatusOK {
				if rec.Code != http.StatusOK || rec.Body.String() != autoX3OK {
					t.Fatalf("answer = %d %s, want 200", rec.Code, rec.Body)
				}
				if calls := f.temporal.Calls(); len(calls) != 1 || f.bodyOf(t, eventInput(t, calls[0])) != string(body) {
					t.Fatal("the chunked body did not reach the workflow byte for byte")
				}
				return
			}
			checkRefusal(t, f, rec, "autox3", tt.status, "too_large", "unknown", "body is over the limit of 1048576 bytes")
		})
	}
}

// Temporal down does not lose a callback: it is stored and acknowledged,
// and the relay starts its workflow once Temporal answers again.
func TestAutoX3WorkflowEngineDown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		startErr error
	}{
		{"temporal unavailable", serviceerror.NewUnavailable("connection refused")},
		{"temporal deadline", serviceerror.NewDeadlineExceeded("context deadline exceeded")},
		{"any other start error", errors.New("something broke")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, testConfig(t, nil))
			f.temporal.startErr = tt.startErr
			body := sampleAutoX3("msg-tmp-0001")
			rec := f.post(t, autoX3Path, "application/json", body)
			if rec.Code != http.StatusOK || rec.Body.String() != autoX3OK {
				t.Fatalf("answer = %d %s, want 200 %s", rec.Code, rec.Body, autoX3OK)
			}
			if f.relayErr == nil {
				t.Fatal("the relay reported no failure while Temporal was down")
			}
			if n, _, _ := f.store.Backlog(t.Context()); n != 1 {
				t.Fatalf("backlog = %d, want the callback waiting", n)
			}
			// A redelivery meanwhile is a duplicate.
			if rec := f.post(t, autoX3Path, "application/json", body); rec.Code != http.StatusOK {
				t.Fatalf("redelivery answered %d", rec.Code)
			}
			f.temporal.mu.Lock()
			f.temporal.startErr = nil
			f.temporal.mu.Unlock()
			if err := f.relay.Drain(t.Context()); err != nil {
				t.Fatalf("relay after Temporal came back: %v", err)
			}
			calls := f.temporal.Calls()
			last := calls[len(calls)-1]
			if last.Options.ID != "autox3:msg-tmp-0001" || f.bodyOf(t, eventInput(t, last)) != string(body) {
				t.Fatalf("last start %s does not carry the stored callback", last.Options.ID)
			}
			if n, _, _ := f.store.Backlog(t.Context()); n != 0 {
				t.Fatalf("backlog = %d after the relay, want 0", n)
			}
			logs := f.logs.String()
			if !strings.Contains(logs, "relay") && f.relayErr == nil {
				t.Errorf("relay failure not visible:\n%s", logs)
			}
			assertNoneOf(t, "logs", logs, autoX3Personal...)
		})
	}

	// The store down, Temporal up: the callback is acknowledged by starting
	// its workflow with the body in the start, which stores it later.
	t.Run("store unreachable", func(t *testing.T) {
		f := newFixture(t, testConfig(t, nil), func(d *api.Deps) { d.Store = closedStore(t) })
		body := sampleAutoX3("msg-tmp-0002")
		before := time.Now()
		rec := f.post(t, autoX3Path, "application/json", body)
		after := time.Now()
		if rec.Code != http.StatusOK || rec.Body.String() != autoX3OK {
			t.Fatalf("answer = %d %s, want 200 %s", rec.Code, rec.Body, autoX3OK)
		}
		calls := f.temporal.Calls()
		if len(calls) != 1 {
			t.Fatalf("%d workflow starts, want 1", len(calls))
		}
		checkStartOptions(t, calls[0], "erpbridge", vendors.AutoX3, "msg-tmp-0002", autox3.MsgTypeReceptionCreate, before.UTC(), after.UTC(), autoX3Personal)
		if in := eventInput(t, calls[0]); string(in.Body) != string(body) || in.ClaimCheck != flow.ClaimCheckFor("autox3", "msg-tmp-0002") {
			t.Fatalf("the start does not carry the callback as received: %+v", in)
		}
		if got := counter(t, f.metrics, "erpbridge_callbacks_kept_total", map[string]string{"vendor": "autox3", "path": "temporal"}); got != 1 {
			t.Errorf("callbacks kept through Temporal = %v, want 1", got)
		}
		// A redelivery while the store is still down finds the workflow: a duplicate, acknowledged.
		rec = f.post(t, autoX3Path, "application/json", body)
		if rec.Code != http.StatusOK || len(f.temporal.Calls()) != 2 {
			t.Fatalf("redelivery answered %d after %d starts", rec.Code, len(f.temporal.Calls()))
		}
		assertNoneOf(t, "logs", f.logs.String(), autoX3Personal...)
	})
	// Both down: refused, so AutoX3 delivers it again.
	t.Run("store and Temporal unreachable", func(t *testing.T) {
		f := newFixture(t, testConfig(t, nil), func(d *api.Deps) { d.Store = closedStore(t) })
		f.temporal.startErr = serviceerror.NewUnavailable("connection refused")
		rec := f.post(t, autoX3Path, "application/json", sampleAutoX3("msg-tmp-0003"))
		checkRefusal(t, f, rec, "autox3", http.StatusServiceUnavailable, "unavailable", autox3.MsgTypeReceptionCreate,
			"could not keep the callback durably; deliver again later")
		if strings.Contains(rec.Body.String(), "sql") || strings.Contains(rec.Body.String(), "connection refused") {
			t.Errorf("answer quotes a driver: %s", rec.Body)
		}
	})
	// A body too large to carry in a workflow start is refused while the
	// store is down, however large the webhook's own limit.
	t.Run("store unreachable, body too large to carry", func(t *testing.T) {
		cfg := testConfig(t, nil)
		cfg.Temporal.MaxPayloadBytes = 64 << 10
		f := newFixture(t, cfg, func(d *api.Deps) { d.Store = closedStore(t) })
		body := autox3.BuildBody("msg-tmp-0004", autox3.MsgTypeReceptionCreate, time.Now().UnixMilli(), []byte(`{}`),
			[]byte(`{"receiveBaseId":1,"preCheckInfo":{"remark":"`+strings.Repeat("长", 40_000)+`"}}`), false, testSecret)
		rec := f.post(t, autoX3Path, "application/json", body)
		checkRefusal(t, f, rec, "autox3", http.StatusServiceUnavailable, "unavailable", autox3.MsgTypeReceptionCreate,
			"could not keep the callback durably; deliver again later")
		if n := len(f.temporal.Calls()); n != 0 {
			t.Errorf("%d workflow starts for a body too large to carry", n)
		}
	})
}

// An unauthenticated sender chooses msgType freely; as a label it would let
// anyone grow the metric series without bound.
func TestAutoX3UnauthenticatedMsgTypeNeverLabelsMetrics(t *testing.T) {
	t.Parallel()
	const evil = "attacker.chosen.label.7f3a"
	build := func(secret string) []byte {
		return autox3.BuildBody("msg-evil-0001", evil, sampleTimeMs, json.RawMessage(`{"staffId":1}`), json.RawMessage(`{"a":1}`), false, secret)
	}
	tests := []struct {
		name    string
		env     map[string]string
		body    []byte
		status  int
		outcome string
	}{
		{"wrong signature", nil, build("another-secret"), 401, "unauthorized"},
		{"no secret configured", map[string]string{"AUTOX3_APP_SECRET": ""}, build(testSecret), 401, "unauthorized"},
		{"malformed signature", nil, withField(t, build(testSecret), "msgSignature", `"not-hex"`), 400, "malformed"},
		{"malformed createTime", nil, withField(t, build(testSecret), "createTime", `"soon"`), 400, "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, testConfig(t, tt.env))
			rec := f.post(t, autoX3Path, "application/json", tt.body)
			if rec.Code != tt.status {
				t.Fatalf("status = %d %s, want %d", rec.Code, rec.Body, tt.status)
			}
			for _, v := range allLabelValues(t, f.metrics) {
				if strings.Contains(v, evil) {
					t.Fatalf("metric label value %q carries the unauthenticated msgType", v)
				}
			}
			labels := map[string]string{"vendor": "autox3", "event_type": "unknown", "outcome": tt.outcome}
			if got := counter(t, f.metrics, "erpbridge_callbacks_total", labels); got != 1 {
				t.Errorf("callbacks_total%v = %v, want 1", labels, got)
			}
			scrape := f.get(t, "/metrics")
			if scrape.Code != http.StatusOK {
				t.Fatalf("/metrics status = %d", scrape.Code)
			}
			assertNoneOf(t, "/metrics", scrape.Body.String(), evil)
		})
	}
}
