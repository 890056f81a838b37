package app

import (
	"context"
	"log/slog"

	"go.temporal.io/sdk/client"

	"github.com/erpbridge/erpbridge/activities"
	"github.com/erpbridge/erpbridge/config"
	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/store"
	"github.com/erpbridge/erpbridge/temporalclient"
)

// operatorClients opens what an operator's command (ops, resend) works
// with: the store, a Temporal client (lazy: connected on first use, so a
// command that may not need Temporal starts while it is unreachable), and
// notify, the signal-with-start the workers use, so a record workflow
// started from the command line is the one they would start. closeAll
// closes the client and the database.
func operatorClients(ctx context.Context, cfg config.Config, log *slog.Logger, lazy bool) (
	s *store.Store, c client.Client, notify func(context.Context, flow.NotifyInput) error, closeAll func(), err error) {
	dc, _, err := dataConverter(cfg)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	db, err := openDB(ctx, cfg)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	c, err = temporalclient.Dial(ctx, cfg, temporalclient.DialOptions{DataConverter: dc, Logger: log, Lazy: lazy})
	if err != nil {
		_ = closeDB(db)
		return nil, nil, nil, nil, err
	}
	notifier := &activities.Activities{Temporal: c, TaskQueue: cfg.Temporal.TaskQueue, Policy: SyncPolicy(cfg)}
	closeAll = func() {
		c.Close()
		_ = closeDB(db)
	}
	return store.New(db), c, notifier.NotifyRecord, closeAll, nil
}
