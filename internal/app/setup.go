package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/erpbridge/erpbridge/config"
	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/temporalclient"
)

// setupPatience bounds how long setup retries while a just-started Temporal
// server, or a just-registered namespace, is not ready for it yet.
const setupPatience = 2 * time.Minute

// runSetup creates the namespace (TEMPORAL_NAMESPACE, with
// TEMPORAL_NAMESPACE_RETENTION) unless it exists, then registers the search
// attributes on it; running it again changes nothing. A namespace is usable
// a few seconds after it is registered, so each step is retried for a while.
func runSetup(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	c, err := temporalclient.Dial(ctx, cfg, temporalclient.DialOptions{Logger: log})
	if err != nil {
		return err
	}
	defer c.Close()
	ns := cfg.Temporal.Namespace
	err = retrying(ctx, log, "namespace", func() error {
		did, err := temporalclient.EnsureNamespace(ctx, c, ns, cfg.Temporal.NamespaceRetention)
		if err == nil {
			log.Info("namespace ready", "namespace", ns, "retention", cfg.Temporal.NamespaceRetention.String(), "changed", did)
		}
		return err
	})
	if err != nil {
		return err
	}
	return retrying(ctx, log, "search attributes", func() error {
		added, err := temporalclient.EnsureSearchAttributes(ctx, c, ns, flow.SearchAttributeNames)
		if err == nil {
			log.Info("search attributes ready", "namespace", ns, "added", added)
		}
		return err
	})
}

// retrying calls f until it succeeds, ctx ends or setupPatience has passed.
func retrying(ctx context.Context, log *slog.Logger, what string, f func() error) error {
	deadline := time.Now().Add(setupPatience)
	for {
		err := f()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: still failing after %s: %w", what, setupPatience, err)
		}
		log.Warn("setup step failed, retrying", "step", what, "error", err)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(2 * time.Second):
		}
	}
}
