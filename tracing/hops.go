package tracing

import (
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
)

// Transport traces every request made through base (nil:
// http.DefaultTransport) as a client span named by its method and path,
// and sends the trace context along. The span holds the method, the URL
// with any password in it redacted, and the answer's status: never a body.
// With tracing off it is base itself.
func (t *Tracing) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if !t.enabled {
		return base
	}
	return otelhttp.NewTransport(base,
		otelhttp.WithTracerProvider(t.Provider), otelhttp.WithPropagators(t.Propagator),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method + " " + r.URL.Path }))
}

// TemporalInterceptor is Temporal's OpenTelemetry interceptor on this
// provider: spans for starting and signalling workflows, for each workflow
// run and each activity, carried in the Temporal headers. Nil with tracing
// off. Its spans name workflow and activity types and hold workflow ids,
// which hold no personal data.
func (t *Tracing) TemporalInterceptor() (interceptor.Interceptor, error) {
	if !t.enabled {
		return nil, nil
	}
	return temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{
		Tracer:            t.Provider.Tracer("temporal-sdk-go"),
		TextMapPropagator: t.Propagator,
		// Queries (the Web UI's status) are not part of a callback's trace.
		DisableQueryTracing: true,
	})
}
