package api_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/erpbridge/erpbridge/api"
	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/tracing"
)

// A webhook request is the root of its callback's trace: a trace context
// the caller sends is linked, not adopted; the span names the route, the
// vendor, the status and the event key, never the query string; and the
// relay's later start of the workflow continues the same trace from the
// stored callback.
func TestWebhookRequestStartsTheTrace(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tr := tracing.WithProcessor(rec, nil)
	f := newFixture(t, testConfig(t, nil), func(d *api.Deps) { d.Tracing = tr })
	f.relay.Tracing = tr

	body := sampleFenbeitong("FBT-TRACE-1", 700)
	const callerParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	req := httptest.NewRequest(http.MethodPost, fenbeitongPath, bytes.NewReader(body))
	req.RemoteAddr = clientAddr
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("traceparent", callerParent)
	checkFenbeitongOK(t, f.serve(req))

	request := spanNamed(t, rec, "POST /webhooks/fenbeitong")
	if request.Parent().IsValid() {
		t.Errorf("the request span adopted the caller's trace as parent: %v", request.Parent())
	}
	if links := request.Links(); len(links) != 1 || links[0].SpanContext.TraceID().String() != "0af7651916cd43dd8448eb211c80319c" {
		t.Errorf("the request span's links = %v, want the caller's context", links)
	}
	want := map[string]string{"http.route": "/webhooks/fenbeitong", "http.request.method": "POST", "http.response.status_code": "200",
		"erpbridge.vendor": "fenbeitong", "erpbridge.event_key": fenbeitongKey(t, body)}
	for k, v := range want {
		if got := spanAttr(request, k); got != v {
			t.Errorf("request span %s = %q, want %q", k, got, v)
		}
	}
	for _, kv := range request.Attributes() {
		if strings.Contains(kv.Value.Emit(), testToken) {
			t.Errorf("request span attribute %s holds the token", kv.Key)
		}
	}

	var row models.InboundEvent
	if err := f.db.Where("event_key = ?", fenbeitongKey(t, body)).Take(&row).Error; err != nil {
		t.Fatal(err)
	}
	if row.TraceParent != "00-"+request.SpanContext().TraceID().String()+"-"+request.SpanContext().SpanID().String()+"-01" {
		t.Errorf("the stored callback keeps traceparent %q, not the request's span", row.TraceParent)
	}
	start := spanNamed(t, rec, "relay start")
	if start.Parent().SpanID() != request.SpanContext().SpanID() || start.SpanContext().TraceID() != request.SpanContext().TraceID() {
		t.Errorf("the relay's start is not the request's child: parent %v", start.Parent())
	}
	if got := spanAttr(start, "erpbridge.outcome"); got != "started" {
		t.Errorf("relay start outcome = %q", got)
	}

	// A refused request is traced with its status, and names no event.
	rec2 := f.post(t, "/webhooks/fenbeitong?token=wrong-token", "application/json", body)
	if rec2.Code != http.StatusUnauthorized {
		t.Fatalf("a wrong token answered %d", rec2.Code)
	}
	var refused sdktrace.ReadOnlySpan
	for _, sp := range rec.Ended() {
		if sp.Name() == "POST /webhooks/fenbeitong" && spanAttr(sp, "http.response.status_code") == "401" {
			refused = sp
		}
	}
	if refused == nil || spanAttr(refused, "erpbridge.event_key") != "" {
		t.Errorf("the refused request's span: %v", refused)
	}
}

func spanNamed(t *testing.T, rec *tracetest.SpanRecorder, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	for _, sp := range rec.Ended() {
		if sp.Name() == name {
			return sp
		}
	}
	t.Fatalf("no span %q", name)
	return nil
}

func spanAttr(sp sdktrace.ReadOnlySpan, key string) string {
	for _, kv := range sp.Attributes() {
		if string(kv.Key) == key {
			return kv.Value.Emit()
		}
	}
	return ""
}
