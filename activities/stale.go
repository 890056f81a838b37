package activities

import (
	"context"
	"time"

	"github.com/erpbridge/erpbridge/flow"
)

// The sweep for records left waiting with no record workflow.
const (
	// StaleAfter is how long a record's newest state may wait unsent with
	// nothing writing its row before its record workflow is told again. A
	// record workflow at work writes the row at every send attempt, and
	// attempts are at most ERP_MAX_INTERVAL apart (10 minutes by default).
	StaleAfter = time.Hour
	// StaleEvery is how often each worker process looks for such records.
	StaleEvery = 10 * time.Minute
	staleBatch = 100
)

// RenotifyStale tells the record workflow of every record whose newest
// state has waited unsent, untouched, for longer than olderThan, starting it
// if it is not running (signal-with-start, as NotifyRecord). It is a
// function, not a method: the worker registers every method of Activities
// as an activity. An event workflow
// closes once it has handed its state over, so nothing else would notice a
// record workflow an operator terminated, or one Temporal lost, while the
// ERP still lacks the state. Telling a running one again changes nothing:
// it sends the newest state, once. It returns how many it told.
func RenotifyStale(ctx context.Context, a *Activities, olderThan time.Duration) (int, error) {
	told := 0
	for {
		recs, err := a.Store.StaleRecords(ctx, time.Now().Add(-olderThan), staleBatch)
		if err != nil {
			return told, err
		}
		for _, r := range recs {
			in := flow.NotifyInput{Vendor: r.Vendor, Kind: r.Kind, ExternalID: r.ExternalID, Revision: r.Revision}
			if err := a.NotifyRecord(ctx, in); err != nil {
				// This batch was marked looked at: the next sweep after
				// olderThan takes the rest again.
				return told, err
			}
			told++
		}
		if len(recs) < staleBatch {
			return told, nil
		}
	}
}

// KeepRecordsMoving runs RenotifyStale every interval until ctx ends.
func KeepRecordsMoving(ctx context.Context, a *Activities, every, olderThan time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		told, err := RenotifyStale(ctx, a, olderThan)
		if a.Logger == nil {
			continue
		}
		if err != nil && ctx.Err() == nil {
			a.Logger.WarnContext(ctx, "could not tell waiting records' workflows again; the next sweep retries", "told", told, "error", err)
		} else if told > 0 {
			a.Logger.WarnContext(ctx, "records waited unsent with no record workflow at work; their record workflows were told again",
				"records", told, "waited_over", olderThan.String())
		}
	}
}
