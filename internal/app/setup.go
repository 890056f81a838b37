package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/erpbridge/erpbridge/config"
	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/temporalclient"
	"go.temporal.io/sdk/client"
)

// setupPatience bounds how long setup retries while a just-started Temporal
// server, or a just-registered namespace, is not ready for it yet.
const setupPatience = 2 * time.Minute

// runSetup creates the namespace (TEMPORAL_NAMESPACE, with
// TEMPORAL_NAMESPACE_RETENTION) unless it exists, registers the search
// attributes on it, and creates or updates the schedules (unless
// SCHEDULES=false); running it again changes nothing. A namespace is usable
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
	err = retrying(ctx, log, "search attributes", func() error {
		added, err := temporalclient.EnsureSearchAttributes(ctx, c, ns, flow.SearchAttributeNames)
		if err == nil {
			log.Info("search attributes ready", "namespace", ns, "added", added)
		}
		return err
	})
	if err != nil || !cfg.Schedules.Enabled {
		return err
	}
	return retrying(ctx, log, "schedules", func() error { return ensureSchedules(ctx, c, cfg, log) })
}

// schedules are the Temporal Schedules the workers keep on the namespace:
// the stale-record sweep, and the Fenbeitong reconciliation when its open
// API is configured.
func schedules(cfg config.Config) []temporalclient.Schedule {
	out := []temporalclient.Schedule{{
		ID: flow.SweepScheduleID, Every: cfg.Schedules.SweepEvery, Workflow: flow.SweepWorkflowName,
		Args: []any{flow.SweepInput{StaleAfter: cfg.Schedules.StaleAfter}}, TaskQueue: cfg.Temporal.TaskQueue,
		Memo: map[string]any{"purpose": "tell the record workflows of records left waiting unsent again"},
	}}
	if cfg.Reconcile.URL != "" {
		out = append(out, temporalclient.Schedule{
			ID: flow.ReconcileScheduleID, Every: cfg.Reconcile.Every, Workflow: flow.ReconcileWorkflowName,
			Args: []any{flow.ReconcileInput{Lookback: cfg.Reconcile.Lookback, PageSize: cfg.Reconcile.PageSize}}, TaskQueue: cfg.Temporal.TaskQueue,
			Memo: map[string]any{"purpose": "pull Fenbeitong's car orders that pushes never complete"},
		})
	}
	return out
}

// ensureSchedules creates or updates every schedule (see schedules).
func ensureSchedules(ctx context.Context, c client.Client, cfg config.Config, log *slog.Logger) error {
	for _, s := range schedules(cfg) {
		did, err := temporalclient.EnsureSchedule(ctx, c, s)
		if err != nil {
			return err
		}
		log.Info("schedule ready", "schedule", s.ID, "every", s.Every.String(), "changed", did)
	}
	return nil
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
