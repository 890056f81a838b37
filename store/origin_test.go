package store_test

import (
	"context"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/store"
	"github.com/erpbridge/erpbridge/vendors"
	"github.com/erpbridge/erpbridge/vendors/autox3"
)

// Persist says how an event came on every path: from its stored row, the
// first time and when a retried run persists it again, and from the run's
// input when no row was stored (a callback when the input names none).
func TestPersistReportsOrigin(t *testing.T) {
	t.Parallel()
	testenv.EachStore(t, func(t *testing.T, db *gorm.DB) {
		s := store.New(db)
		ctx := context.Background()
		inbound := func(body []byte) store.Inbound {
			ev := decodeOK(t, body)
			return store.Inbound{Vendor: vendors.AutoX3, EventKey: ev.EventKey, EventType: ev.EventType, Body: body,
				ReceivedAt: time.Now(), WorkflowID: "autox3:" + ev.EventKey}
		}

		pulled := inbound(autox3.SampleReceptionBody("origin-1", 8101, 1700000000000, "k"))
		pulled.Origin = models.OriginPull
		if _, err := s.Receive(ctx, pulled); err != nil {
			t.Fatal(err)
		}
		// Runs carry the claim check only: the stored row says how it came.
		run := pulled
		run.Origin, run.Body = "", nil
		for _, attempt := range []string{"first", "again"} {
			res, _, err := s.Persist(ctx, run, autox3.Decode)
			if err != nil || res.Origin != models.OriginPull || !res.Applied {
				t.Fatalf("%s persist of a pulled event = %+v, %v; want it applied, origin %q", attempt, res, err, models.OriginPull)
			}
		}

		carried := inbound(autox3.SampleReceptionBody("origin-2", 8102, 1700000000000, "k"))
		res, _, err := s.Persist(ctx, carried, autox3.Decode)
		if err != nil || res.Origin != models.OriginCallback {
			t.Fatalf("persist of a run carrying its body = %+v, %v; want origin %q", res, err, models.OriginCallback)
		}
	})
}
