// Package temporalclient connects erpbridge's commands to Temporal and
// prepares the namespace they use: the client (plain text, TLS, mTLS or an
// API key, with the payload codec and the SDK's metrics), the namespace and
// its retention, the search attributes and the schedules. The api, the
// worker and the operators' commands all dial through it.
package temporalclient

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/uber-go/tally/v4"
	tallyprom "github.com/uber-go/tally/v4/prometheus"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"
	"go.temporal.io/sdk/converter"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"

	"github.com/erpbridge/erpbridge/config"
	"github.com/erpbridge/erpbridge/tracing"
)

// DialOptions are what a Temporal connection needs beyond the config.
type DialOptions struct {
	DataConverter converter.DataConverter // nil: Temporal's default (unencrypted)
	Registerer    prom.Registerer         // where the SDK's own metrics go; nil: none
	Logger        *slog.Logger
	// Lazy connects on first use instead of at Dial, so a process can start
	// while Temporal is unreachable.
	Lazy bool
	// Tracing traces the client's calls and, through the client, the
	// workers' workflows and activities; nil or off: none.
	Tracing *tracing.Tracing
}

// Dial connects to the configured Temporal frontend and namespace: a
// self-hosted cluster in plain text or TLS, or Temporal Cloud with an mTLS
// client certificate or an API key (see tlsConfig).
func Dial(ctx context.Context, cfg config.Config, o DialOptions) (client.Client, error) {
	opts := client.Options{
		HostPort:      cfg.Temporal.Address,
		Namespace:     cfg.Temporal.Namespace,
		DataConverter: o.DataConverter,
	}
	if o.DataConverter != nil {
		// Failures are encrypted too: their messages, stack traces and
		// details would otherwise reach the history as plain JSON.
		opts.FailureConverter = temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
			DataConverter: o.DataConverter, EncodeCommonAttributes: true})
	}
	tlsCfg, err := tlsConfig(cfg.Temporal)
	if err != nil {
		return nil, err
	}
	opts.ConnectionOptions.TLS = tlsCfg
	opts.ConnectionOptions.GrpcCompression = &client.GrpcCompressionNone{}
	if cfg.Temporal.Gzip {
		opts.ConnectionOptions.GrpcCompression = &client.GrpcCompressionGzip{}
	}
	if cfg.Temporal.APIKey != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(cfg.Temporal.APIKey)
	}
	if o.Logger != nil {
		opts.Logger = sdklog.NewStructuredLogger(o.Logger.With("component", "temporal-sdk"))
	}
	if o.Registerer != nil {
		reporter := tallyprom.NewReporter(tallyprom.Options{Registerer: o.Registerer})
		scope, _ := tally.NewRootScope(tally.ScopeOptions{
			CachedReporter:  reporter,
			Separator:       "_",
			SanitizeOptions: &sdktally.PrometheusSanitizeOptions,
		}, time.Second)
		opts.MetricsHandler = sdktally.NewMetricsHandler(scope)
	}
	if o.Tracing != nil {
		ic, err := o.Tracing.TemporalInterceptor()
		if err != nil {
			return nil, fmt.Errorf("temporal tracing: %w", err)
		}
		if ic != nil {
			opts.Interceptors = append(opts.Interceptors, ic)
		}
	}
	dial := client.DialContext
	if o.Lazy {
		dial = func(_ context.Context, opts client.Options) (client.Client, error) { return client.NewLazyClient(opts) }
	}
	c, err := dial(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s (namespace %s): %w", cfg.Temporal.Address, cfg.Temporal.Namespace, err)
	}
	return c, nil
}

// EnsureSearchAttributes registers the named Keyword search attributes on
// the namespace, adding only the missing ones, so it can run at every start.
// It returns the names it added.
func EnsureSearchAttributes(ctx context.Context, c client.Client, namespace string, names []string) ([]string, error) {
	ops := c.OperatorService()
	have, err := ops.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return nil, fmt.Errorf("list search attributes of namespace %s: %w", namespace, err)
	}
	missing := map[string]enums.IndexedValueType{}
	var added []string
	for _, name := range names {
		if t, ok := have.GetCustomAttributes()[name]; ok {
			if t != enums.INDEXED_VALUE_TYPE_KEYWORD {
				return nil, fmt.Errorf("search attribute %s exists on namespace %s with type %s, want Keyword", name, namespace, t)
			}
			continue
		}
		missing[name] = enums.INDEXED_VALUE_TYPE_KEYWORD
		added = append(added, name)
	}
	if len(missing) == 0 {
		return nil, nil
	}
	if _, err := ops.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: namespace, SearchAttributes: missing}); err != nil {
		return nil, fmt.Errorf("add search attributes %v to namespace %s: %w", added, namespace, err)
	}
	return added, nil
}
