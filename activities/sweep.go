package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/erpbridge/erpbridge/flow"
)

// sweepBatch is how many stale records one claim takes.
const sweepBatch = 100

// SweepStaleRecords tells the record workflow of every record whose newest
// state has waited unsent, untouched, for longer than in.StaleAfter,
// starting it if it is not running (signal-with-start, as NotifyRecord). An
// event workflow closes once it has handed its state over, so nothing else
// would notice a record workflow an operator terminated, or one Temporal
// lost, while the ERP still lacks the state. Telling a running one again
// changes nothing: it sends the newest state, once. Each record it takes is
// claimed in the store, so two sweeps at once tell each record once.
func (a *Activities) SweepStaleRecords(ctx context.Context, in flow.SweepInput) (flow.SweepResult, error) {
	var res flow.SweepResult
	for {
		recs, err := a.Store.ClaimStaleRecords(ctx, time.Now().Add(-in.StaleAfter), sweepBatch)
		if err != nil {
			return res, err
		}
		for _, r := range recs {
			in := flow.NotifyInput{Vendor: r.Vendor, Kind: r.Kind, ExternalID: r.ExternalID, Revision: r.Revision}
			if err := a.NotifyRecord(ctx, in); err != nil {
				// This batch is claimed for StaleAfter: the next sweep after
				// that takes the rest again.
				return res, err
			}
			res.Told++
			activity.RecordHeartbeat(ctx, res.Told)
		}
		if len(recs) < sweepBatch {
			if res.Told > 0 && a.Logger != nil {
				a.Logger.WarnContext(ctx, "records waited unsent with no record workflow at work; their record workflows were told again",
					"records", res.Told, "waited_over", in.StaleAfter.String())
			}
			return res, nil
		}
	}
}
