package intake

import (
	"context"
	"log/slog"
	"time"

	"github.com/erpbridge/erpbridge/metrics"
	"github.com/erpbridge/erpbridge/store"
)

// GaugesEvery is how often WatchParked counts the parked records afresh.
const GaugesEvery = 15 * time.Second

// WatchParked keeps the parked-records gauges current until ctx ends: how
// many records wait for an operator's retry or skip, and how long the oldest
// of them has waited. Both are counted in the store (an indexed count), so
// every api process shows the same figures.
func WatchParked(ctx context.Context, st *store.Store, m *metrics.Metrics, log *slog.Logger, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	failing := false
	for {
		// Bounded, so a store that stops answering leaves the gauges at their
		// last values instead of holding the loop.
		cctx, cancel := context.WithTimeout(ctx, every)
		n, oldest, err := st.Parked(cctx)
		cancel()
		switch {
		case err == nil:
			m.RecordsParked.Set(float64(n))
			age := 0.0
			if !oldest.IsZero() {
				age = max(time.Since(oldest).Seconds(), 0)
			}
			m.RecordsParkedOldestSeconds.Set(age)
			failing = false
		case ctx.Err() == nil && !failing && log != nil:
			log.Warn("could not count the parked records; the gauges keep their last values", "error", err)
			failing = true
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
