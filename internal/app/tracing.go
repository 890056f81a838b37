package app

import (
	"context"
	"log/slog"

	"github.com/erpbridge/erpbridge/config"
	"github.com/erpbridge/erpbridge/tracing"
)

// startTracing builds the tracing cfg.Tracing chooses, and the function
// that exports its last spans when the process stops.
func startTracing(ctx context.Context, cfg config.Config, log *slog.Logger) (*tracing.Tracing, func(), error) {
	tr, err := tracing.New(ctx, cfg.Tracing, version)
	if err != nil {
		return nil, nil, err
	}
	if tr.Enabled() {
		log.Info("tracing on", "exporter", cfg.Tracing.Exporter, "protocol", cfg.Tracing.Protocol, "service", cfg.Tracing.ServiceName)
	}
	return tr, func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), tracing.ShutdownTimeout)
		defer cancel()
		if err := tr.Shutdown(sctx); err != nil {
			log.Warn("tracing: the last spans were not all exported", "error", err)
		}
	}, nil
}
