package integration

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/internal/testkit"
	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/tracing"
	"github.com/erpbridge/erpbridge/vendors/autox3"
	"github.com/erpbridge/erpbridge/vendors/fenbeitong"
)

// One callback is one trace, from its webhook request to its ERP call:
// the request's span, the relay's start of the event workflow, the
// workflow and its steps, the record workflow it tells, and the send to
// the ERP with its HTTP request. A second callback of the same record,
// sent by the record workflow the first one started, has its send in its
// own trace. No span holds personal data, a secret or the Fenbeitong token.
func TestOneTracePerCallback(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tr := tracing.WithProcessor(rec, nil)
	s := newStack(t, "mysql", stackOptions{tracing: tr})

	rbid := uniqueID()
	ext := strconv.FormatInt(rbid, 10)
	created := time.Now().Add(-time.Minute).UnixMilli()
	first, second := uuid.NewString(), uuid.NewString()
	s.mustAccept("/webhooks/autox3", autox3.SampleReceptionBody(first, rbid, created, appSecret))
	s.mustResult(flow.EventWorkflowID("autox3", first), string(models.EventSynced))
	s.mustAccept("/webhooks/autox3", autox3.SampleReceptionBody(second, rbid, created+1000, appSecret))
	s.mustResult(flow.EventWorkflowID("autox3", second), string(models.EventSynced))
	if n := len(s.records("reception_order", ext)); n != 2 {
		t.Fatalf("the ERP has %d records of order %s, want 2", n, ext)
	}
	fbtBody := fenbeitong.SampleBody("TR"+testkit.RandomHex(8), 700, time.Now().Format(time.DateTime))
	s.mustAccept(fbtPath(), fbtBody)

	// The root of each callback's trace is its request's span.
	traceOf := func(msgID string) trace.TraceID {
		var id trace.TraceID
		testenv.Eventually(t, "the request span of "+msgID, 30*time.Second, func() error {
			for _, sp := range rec.Ended() {
				if sp.Name() == "POST /webhooks/autox3" && attr(sp, "erpbridge.event_key") == msgID {
					if sp.Parent().IsValid() {
						t.Fatalf("the request span has a parent: %v", sp.Parent())
					}
					id = sp.SpanContext().TraceID()
					return nil
				}
			}
			return fmt.Errorf("%d spans ended, none the request", len(rec.Ended()))
		})
		return id
	}
	for _, msgID := range []string{first, second} {
		id := traceOf(msgID)
		var spans []sdktrace.ReadOnlySpan
		testenv.Eventually(t, "the trace of "+msgID+" reaches the ERP", 30*time.Second, func() error {
			spans = spansOf(rec, id)
			if _, ok := named(spans, "POST /records"); !ok {
				return fmt.Errorf("no ERP request among %v", names(spans))
			}
			return nil
		})
		t.Logf("trace of %s: %v", msgID, names(spans))
		for _, want := range []string{"POST /webhooks/autox3", "relay start", "StartWorkflow:" + flow.EventWorkflowName,
			"RunWorkflow:" + flow.EventWorkflowName, "RunActivity:Persist", "RunActivity:NotifyRecord",
			"SignalWithStartWorkflow:" + flow.RecordWorkflowName, "erp.send", "POST /records"} {
			if _, ok := named(spans, want); !ok {
				t.Errorf("the trace of %s has no span %q: %v", msgID, want, names(spans))
			}
		}
		// The ERP request is the send's child, and the send follows the
		// notice of this callback, whichever record workflow run sends it.
		send, _ := named(spans, "erp.send")
		httpCall, _ := named(spans, "POST /records")
		if send != nil && httpCall != nil && httpCall.Parent().SpanID() != send.SpanContext().SpanID() {
			t.Errorf("the ERP request's parent is %v, not the send", httpCall.Parent())
		}
		if send != nil && attr(send, "erpbridge.outcome") != string(models.AttemptAccepted) {
			t.Errorf("the send's outcome is %q", attr(send, "erpbridge.outcome"))
		}
		// Every span of the trace descends from the request's.
		ids := map[trace.SpanID]bool{}
		for _, sp := range spans {
			ids[sp.SpanContext().SpanID()] = true
		}
		for _, sp := range spans {
			if p := sp.Parent(); p.IsValid() && !ids[p.SpanID()] && !startedIn(rec, p.SpanID()) {
				t.Errorf("span %q has a parent outside the trace", sp.Name())
			}
		}
	}

	// No personal data, no secret, no token in any span.
	testenv.Eventually(t, "the Fenbeitong push traced", 30*time.Second, func() error {
		for _, sp := range rec.Ended() {
			if sp.Name() == "POST /webhooks/fenbeitong" {
				return nil
			}
		}
		return fmt.Errorf("not yet")
	})
	for _, sp := range append(rec.Ended(), startedOnly(rec)...) {
		for _, kv := range append(sp.Attributes(), sp.Resource().Attributes()...) {
			v := kv.Value.Emit()
			for _, secret := range []string{markerPhone, markerPlate, markerName, markerFBTName, markerFBTPhone, appSecret, fbtToken, erpToken} {
				if strings.Contains(v, secret) {
					t.Errorf("span %q attribute %s holds personal data or a secret", sp.Name(), kv.Key)
				}
			}
		}
		for _, ev := range sp.Events() {
			for _, kv := range ev.Attributes {
				if strings.Contains(kv.Value.Emit(), markerPhone) {
					t.Errorf("span %q event %s holds personal data", sp.Name(), ev.Name)
				}
			}
		}
	}
}

// Markers of the samples' personal data: the staff member's mobile number,
// the car's plate and its owner's name in AutoX3's; the traveller's name
// and phone in Fenbeitong's.
const (
	markerPhone    = "17666166190"
	markerPlate    = "JING"
	markerName     = "xiaohaha"
	markerFBTName  = "张三"
	markerFBTPhone = "13800000001"
)

func attr(sp sdktrace.ReadOnlySpan, key string) string {
	for _, kv := range sp.Attributes() {
		if string(kv.Key) == key {
			return kv.Value.Emit()
		}
	}
	return ""
}

func spansOf(rec *tracetest.SpanRecorder, id trace.TraceID) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, sp := range rec.Ended() {
		if sp.SpanContext().TraceID() == id {
			out = append(out, sp)
		}
	}
	return out
}

func named(spans []sdktrace.ReadOnlySpan, name string) (sdktrace.ReadOnlySpan, bool) {
	for _, sp := range spans {
		if sp.Name() == name {
			return sp, true
		}
	}
	return nil, false
}

func names(spans []sdktrace.ReadOnlySpan) []string {
	out := make([]string, len(spans))
	for i, sp := range spans {
		out[i] = sp.Name()
	}
	return out
}

// startedIn reports whether a span with the id was started (it may still
// be running: a record workflow's run lasts until it idles out).
func startedIn(rec *tracetest.SpanRecorder, id trace.SpanID) bool {
	for _, sp := range rec.Started() {
		if sp.SpanContext().SpanID() == id {
			return true
		}
	}
	return false
}

// startedOnly are the spans started and not yet ended.
func startedOnly(rec *tracetest.SpanRecorder) []sdktrace.ReadOnlySpan {
	ended := map[trace.SpanID]bool{}
	for _, sp := range rec.Ended() {
		ended[sp.SpanContext().SpanID()] = true
	}
	var out []sdktrace.ReadOnlySpan
	for _, sp := range rec.Started() {
		if !ended[sp.SpanContext().SpanID()] {
			out = append(out, sp)
		}
	}
	return out
}
