package tracing_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/erpbridge/erpbridge/config"
	"github.com/erpbridge/erpbridge/tracing"
)

// Off records nothing and wraps nothing.
func TestOffRecordsNothing(t *testing.T) {
	tr, err := tracing.New(context.Background(), config.Default().Tracing, "test")
	if err != nil {
		t.Fatal(err)
	}
	if tr.Enabled() {
		t.Fatal("tracing is on by default")
	}
	ctx, span := tr.Tracer().Start(context.Background(), "x")
	defer span.End()
	if span.SpanContext().IsValid() || tracing.Parent(ctx) != "" {
		t.Error("the off tracer made a real span")
	}
	if tr.Transport(http.DefaultTransport) != http.DefaultTransport {
		t.Error("the off transport is not the base")
	}
	if ic, err := tr.TemporalInterceptor(); ic != nil || err != nil {
		t.Errorf("an interceptor with tracing off: %v, %v", ic, err)
	}
}

// A traceparent kept and read back continues the same trace under the
// same parent; an empty or broken one leaves the context as it was.
func TestParentRoundTrip(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tr := tracing.WithProcessor(rec, nil)
	ctx, span := tr.Tracer().Start(context.Background(), "request")
	tp := tracing.Parent(ctx)
	span.End()
	if len(tp) != 55 {
		t.Fatalf("traceparent %q is not W3C's 55 characters", tp)
	}
	_, child := tr.Tracer().Start(tracing.FromParent(context.Background(), tp), "later")
	child.End()
	ended := rec.Ended()
	if got := ended[1].Parent(); got.TraceID() != span.SpanContext().TraceID() || got.SpanID() != span.SpanContext().SpanID() {
		t.Errorf("the later span's parent is %v, want the request's %v", got, span.SpanContext())
	}
	for _, bad := range []string{"", "00-zz-1-01", "not a traceparent"} {
		if got := tracing.FromParent(context.Background(), bad); trace.SpanContextFromContext(got).IsValid() {
			t.Errorf("FromParent(%q) gave a parent", bad)
		}
	}
}

// Over OTLP/HTTP the spans reach a collector at OTEL_EXPORTER_OTLP_ENDPOINT
// (with /v1/traces appended) as protobuf, with the service's name.
func TestExportsOverOTLPHTTP(t *testing.T) {
	var mu sync.Mutex
	var got []*collectortrace.ExportTraceServiceRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
			t.Errorf("the exporter posted %s %s", r.URL.Path, r.Header.Get("Content-Type"))
		}
		var req collectortrace.ExportTraceServiceRequest
		if err := proto.Unmarshal(body, &req); err != nil {
			t.Errorf("not an OTLP export: %v", err)
		}
		mu.Lock()
		got = append(got, &req)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		out, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
		_, _ = w.Write(out)
	}))
	defer srv.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL)
	cfg := config.Tracing{Exporter: config.TracesOTLP, Endpoint: srv.URL, Protocol: config.OTLPHTTPProtobuf, ServiceName: "erpbridge-test"}
	exportOne(t, cfg)
	mu.Lock()
	defer mu.Unlock()
	checkExported(t, got)
}

// Over OTLP/gRPC the spans reach a collector's trace service.
func TestExportsOverOTLPGRPC(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	col := &collector{}
	srv := grpc.NewServer()
	collectortrace.RegisterTraceServiceServer(srv, col)
	go func() { _ = srv.Serve(ln) }()
	defer srv.Stop()
	endpoint := "http://" + ln.Addr().String()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
	t.Setenv("OTEL_EXPORTER_OTLP_INSECURE", "true")
	exportOne(t, config.Tracing{Exporter: config.TracesOTLP, Endpoint: endpoint, Protocol: config.OTLPGRPC, ServiceName: "erpbridge-test"})
	col.mu.Lock()
	defer col.mu.Unlock()
	checkExported(t, col.got)
}

// exportOne records one span through New's provider and shuts it down,
// which exports it.
func exportOne(t *testing.T, cfg config.Tracing) {
	t.Helper()
	tr, err := tracing.New(context.Background(), cfg, "v-test")
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Enabled() {
		t.Fatal("tracing is off")
	}
	_, span := tr.Tracer().Start(context.Background(), "POST /webhooks/autox3")
	span.End()
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func checkExported(t *testing.T, got []*collectortrace.ExportTraceServiceRequest) {
	t.Helper()
	var spans []string
	service := ""
	for _, req := range got {
		for _, rs := range req.GetResourceSpans() {
			for _, kv := range rs.GetResource().GetAttributes() {
				if kv.GetKey() == "service.name" {
					service = kv.GetValue().GetStringValue()
				}
			}
			for _, ss := range rs.GetScopeSpans() {
				for _, sp := range ss.GetSpans() {
					spans = append(spans, sp.GetName())
				}
			}
		}
	}
	if len(spans) != 1 || spans[0] != "POST /webhooks/autox3" || service != "erpbridge-test" {
		t.Errorf("the collector received spans %v of service %q", spans, service)
	}
}

type collector struct {
	collectortrace.UnimplementedTraceServiceServer
	mu  sync.Mutex
	got []*collectortrace.ExportTraceServiceRequest
}

func (c *collector) Export(_ context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, req)
	return &collectortrace.ExportTraceServiceResponse{}, nil
}
