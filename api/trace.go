package api

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/erpbridge/erpbridge/tracing"
)

// traceRequest gives a webhook request its server span, the root of the
// callback's trace. The webhooks face the internet, so a trace context a
// caller sends is linked, never adopted as the parent. The span holds the
// method, the route, the vendor, the answer's status and, once the callback
// is read, its event key, workflow id and outcome: never the query string
// (Fenbeitong's token travels there), a header or the body.
func traceRequest(t *tracing.Tracing, vendor string) gin.HandlerFunc {
	if !t.Enabled() {
		return func(c *gin.Context) { c.Next() }
	}
	tracer := t.Tracer()
	return func(c *gin.Context) {
		route := c.FullPath()
		opts := []trace.SpanStartOption{
			trace.WithNewRoot(),
			trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(
				attribute.String("http.request.method", c.Request.Method),
				attribute.String("http.route", route),
				attribute.String("erpbridge.vendor", vendor),
			),
		}
		remote := t.Propagator.Extract(c.Request.Context(), propagation.HeaderCarrier(c.Request.Header))
		if sc := trace.SpanContextFromContext(remote); sc.IsValid() {
			opts = append(opts, trace.WithLinks(trace.Link{SpanContext: sc}))
		}
		ctx, span := tracer.Start(c.Request.Context(), c.Request.Method+" "+route, opts...)
		defer span.End()
		c.Request = c.Request.WithContext(ctx)
		c.Next()

		status := c.Writer.Status()
		span.SetAttributes(attribute.Int("http.response.status_code", status))
		for _, k := range requestFacts {
			if v, ok := c.Get(k); ok {
				span.SetAttributes(attribute.String("erpbridge."+k, fmt.Sprint(v)))
			}
		}
		if status >= http.StatusInternalServerError {
			span.SetStatus(codes.Error, http.StatusText(status))
		}
	}
}
