// Package tracing is erpbridge's OpenTelemetry tracing: the tracer
// provider config.Tracing chooses (OTLP over gRPC or HTTP, the console, or
// none), and what carries one callback's trace across the hops that are not
// one call: the stored callback the relay starts later, and the record
// workflow that sends the newest state some time after it was told.
//
// One callback is one trace: the webhook request's span, the relay's start
// of the event workflow, the workflow and its activities (Temporal's
// interceptor), the record workflow told of the new state, and the ERP call
// (erp.send and its HTTP requests). Span attributes hold ids and kinds,
// never a body nor personal data.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/erpbridge/erpbridge/config"
)

// ScopeName is the instrumentation scope of erpbridge's own spans.
const ScopeName = "github.com/erpbridge/erpbridge"

// Tracing is a tracer provider and how spans travel between processes.
// The zero value is not usable; Off gives one that records nothing.
type Tracing struct {
	// Provider makes the tracers; a no-op provider when tracing is off.
	Provider trace.TracerProvider
	// Propagator carries a span across HTTP calls and Temporal headers:
	// W3C trace context and baggage.
	Propagator propagation.TextMapPropagator

	shutdown func(context.Context) error
	enabled  bool
}

// Off is tracing that records nothing.
func Off() *Tracing {
	return &Tracing{Provider: noop.NewTracerProvider(), Propagator: propagator(), shutdown: func(context.Context) error { return nil }}
}

// New builds the tracing cfg chooses: Off for exporter none; otherwise a
// batching provider exporting over OTLP (cfg.Protocol) or to the console
// (stdout). The exporters read their own standard variables (headers,
// timeout, certificates, the endpoint), the batch processor OTEL_BSP_*,
// the sampler OTEL_TRACES_SAMPLER, the resource OTEL_RESOURCE_ATTRIBUTES.
// Nothing is dialled here: an unreachable collector loses spans, never
// blocks a callback.
func New(ctx context.Context, cfg config.Tracing, version string) (*Tracing, error) {
	var exp sdktrace.SpanExporter
	var err error
	switch cfg.Exporter {
	case config.TracesNone, "":
		return Off(), nil
	case config.TracesConsole:
		exp, err = stdouttrace.New(stdouttrace.WithWriter(os.Stdout))
	case config.TracesOTLP:
		if cfg.Protocol == config.OTLPGRPC {
			exp, err = otlptracegrpc.New(ctx)
		} else {
			exp, err = otlptracehttp.New(ctx)
		}
	default:
		return nil, fmt.Errorf("tracing: OTEL_TRACES_EXPORTER=%q must be otlp, console or none", cfg.Exporter)
	}
	if err != nil {
		return nil, fmt.Errorf("tracing: %s exporter: %w", cfg.Exporter, err)
	}
	res, err := Resource(ctx, cfg.ServiceName, version)
	if err != nil {
		return nil, err
	}
	return WithProcessor(sdktrace.NewBatchSpanProcessor(exp), res), nil
}

// WithProcessor is tracing through one span processor: New's batching
// exporter, or a test's recorder.
func WithProcessor(p sdktrace.SpanProcessor, res *resource.Resource) *Tracing {
	opts := []sdktrace.TracerProviderOption{sdktrace.WithSpanProcessor(p)}
	if res != nil {
		opts = append(opts, sdktrace.WithResource(res))
	}
	tp := sdktrace.NewTracerProvider(opts...)
	return &Tracing{Provider: tp, Propagator: propagator(), shutdown: tp.Shutdown, enabled: true}
}

// Resource describes the process: service.name (OTEL_SERVICE_NAME wins
// over serviceName), service.version, and OTEL_RESOURCE_ATTRIBUTES.
func Resource(ctx context.Context, serviceName, version string) (*resource.Resource, error) {
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName(serviceName), semconv.ServiceVersion(version)),
		resource.WithFromEnv(), resource.WithTelemetrySDK(), resource.WithProcessPID(),
		resource.WithProcessRuntimeName(), resource.WithProcessRuntimeVersion(), resource.WithHost())
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("tracing: resource: %w", err)
	}
	return res, nil
}

func propagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
}

// Enabled reports whether spans are recorded.
func (t *Tracing) Enabled() bool { return t.enabled }

// Tracer is the tracer of erpbridge's own spans.
func (t *Tracing) Tracer() trace.Tracer { return t.Provider.Tracer(ScopeName) }

// Shutdown exports the spans still buffered, within ctx.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if err := t.shutdown(ctx); err != nil {
		return fmt.Errorf("tracing: shutdown: %w", err)
	}
	return nil
}

// ShutdownTimeout bounds the export of the last spans when a process stops.
const ShutdownTimeout = 5 * time.Second

// traceContext is the W3C trace context format Parent and FromParent use.
var traceContext = propagation.TraceContext{}

// Parent is the W3C traceparent of the span in ctx, "" when there is none:
// what a stored callback and a record workflow's notice keep, so that the
// hop that continues later continues the same trace.
func Parent(ctx context.Context) string {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ""
	}
	c := propagation.MapCarrier{}
	traceContext.Inject(ctx, c)
	return c.Get("traceparent")
}

// FromParent returns ctx with the remote span traceparent names as its
// parent; ctx as it is when traceparent is empty or not valid.
func FromParent(ctx context.Context, traceparent string) context.Context {
	if traceparent == "" {
		return ctx
	}
	out := traceContext.Extract(ctx, propagation.MapCarrier{"traceparent": traceparent})
	if !trace.SpanContextFromContext(out).IsValid() {
		return ctx
	}
	return out
}
