package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/store"
)

// StaleRecords finds the records waiting unsent that nothing touched for
// long, and only those; each is handed out once per waiting period.
func TestStaleRecordsFindsOnlyUntouchedPendingRecords(t *testing.T) {
	t.Parallel()
	testenv.EachStore(t, func(t *testing.T, db *gorm.DB) {
		s := store.New(db)
		ctx := context.Background()
		old := time.Now().Add(-3 * time.Hour)
		fresh := time.Now().Add(-time.Minute)
		resendRow(t, db, "autox3", "reception_order", "stale-1", 10, 2, 1, models.RecordPending, old)
		resendRow(t, db, "autox3", "reception_order", "stale-2", 10, 1, 0, models.RecordPending, old.Add(time.Minute))
		resendRow(t, db, "autox3", "reception_order", "busy", 10, 2, 1, models.RecordPending, fresh)      // a workflow is at it
		resendRow(t, db, "autox3", "reception_order", "synced", 10, 2, 2, models.RecordSynced, old)       // at the ERP
		resendRow(t, db, "autox3", "reception_order", "parked", 10, 2, 1, models.RecordRejected, old)     // an operator's
		resendRow(t, db, "autox3", "reception_order", "skipped", 10, 2, 2, models.RecordSkipped, old)     // an operator's
		resendRow(t, db, "autox3", "reception_order", "placeholder", -1, 0, 0, models.RecordPending, old) // never applied

		got, err := s.ClaimStaleRecords(ctx, time.Now().Add(-time.Hour), 10)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range got {
			ids = append(ids, r.ExternalID)
			if r.Vendor != "autox3" || r.Kind != "reception_order" || r.Revision == 0 {
				t.Errorf("stale record %+v lacks what its workflow needs", r)
			}
		}
		if !slices.Equal(ids, []string{"stale-1", "stale-2"}) {
			t.Fatalf("stale records %v, want stale-1 and stale-2, oldest first", ids)
		}
		// Handed out: not again until they have waited as long again.
		if again, err := s.ClaimStaleRecords(ctx, time.Now().Add(-time.Hour), 10); err != nil || len(again) != 0 {
			t.Fatalf("a second sweep found %v, %v; want none", again, err)
		}
		if later, err := s.ClaimStaleRecords(ctx, time.Now().Add(time.Hour), 1); err != nil || len(later) != 1 {
			t.Fatalf("a sweep an hour on, limit 1, found %v, %v; want one", later, err)
		}
	})
}
