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

// resendRow stores a record state as it stands after some syncs, last changed at changed.
func resendRow(t *testing.T, db *gorm.DB, vendor, kind, id string, version, revision, synced int64, status models.RecordStatus, changed time.Time) models.RecordState {
	t.Helper()
	st := models.RecordState{Vendor: vendor, Kind: kind, ExternalID: id, Version: version, Revision: revision,
		SyncedRevision: synced, SyncStatus: status, OccurredAt: changed, Data: `{}`, DataSHA256: "-"}
	if err := db.Create(&st).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Model(&st).UpdateColumn("updated_at", changed).Error; err != nil {
		t.Fatal(err)
	}
	return st
}

func labels(t *testing.T, s *store.Store, f store.ResendFilter) []string {
	t.Helper()
	var out []string
	var after uint64
	for {
		page, err := s.ResendPage(context.Background(), f, after, 2) // small pages: paging is part of the test
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, r := range page {
			out = append(out, r.Label())
			after = r.ID
		}
	}
	n, err := s.CountResend(context.Background(), f)
	if err != nil || n != int64(len(out)) {
		t.Fatalf("CountResend = %d, %v; pages held %d", n, err, len(out))
	}
	return out
}

func TestResendFilters(t *testing.T) {
	t.Parallel()
	testenv.EachStore(t, func(t *testing.T, db *gorm.DB) {
		s := store.New(db)
		day := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
		resendRow(t, db, "autox3", "reception_order", "1", 10, 2, 2, models.RecordSynced, day)
		resendRow(t, db, "autox3", "reception_order", "2", 10, 1, 1, models.RecordSynced, day.Add(24*time.Hour))
		resendRow(t, db, "autox3", "inspection_report", "1", 10, 1, 1, models.RecordSynced, day.Add(48*time.Hour))
		resendRow(t, db, "fenbeitong", "car_order", "X-1", 10, 3, 3, models.RecordSynced, day.Add(72*time.Hour))
		resendRow(t, db, "fenbeitong", "car_order", "never", -1, 0, 0, models.RecordPending, day.Add(72*time.Hour))

		for _, c := range []struct {
			name string
			f    store.ResendFilter
			want []string
		}{
			{"all", store.ResendFilter{}, []string{"autox3/reception_order/1", "autox3/reception_order/2", "autox3/inspection_report/1", "fenbeitong/car_order/X-1"}},
			{"vendor", store.ResendFilter{Vendor: "fenbeitong"}, []string{"fenbeitong/car_order/X-1"}},
			{"kind", store.ResendFilter{Vendor: "autox3", Kind: "reception_order"}, []string{"autox3/reception_order/1", "autox3/reception_order/2"}},
			{"ids", store.ResendFilter{ExternalIDs: []string{"1", "X-1"}}, []string{"autox3/reception_order/1", "autox3/inspection_report/1", "fenbeitong/car_order/X-1"}},
			{"since", store.ResendFilter{ChangedSince: day.Add(36 * time.Hour)}, []string{"autox3/inspection_report/1", "fenbeitong/car_order/X-1"}},
			{"window", store.ResendFilter{ChangedSince: day.Add(time.Hour), ChangedBefore: day.Add(48 * time.Hour)}, []string{"autox3/reception_order/2"}},
		} {
			if got := labels(t, s, c.f); !slices.Equal(got, c.want) {
				t.Errorf("%s: %v, want %v", c.name, got, c.want)
			}
		}
	})
}

// Only a record the ERP is up to date with is raised, by one revision, with
// its state unchanged; the record's next sync then sends that state again.
func TestMarkForResend(t *testing.T) {
	t.Parallel()
	testenv.EachStore(t, func(t *testing.T, db *gorm.DB) {
		s := store.New(db)
		ctx := context.Background()
		now := time.Now().UTC()
		synced := resendRow(t, db, "autox3", "reception_order", "1", 77, 4, 4, models.RecordSynced, now)
		pending := resendRow(t, db, "autox3", "reception_order", "2", 77, 5, 4, models.RecordPending, now)
		rejected := resendRow(t, db, "autox3", "reception_order", "3", 77, 2, 1, models.RecordRejected, now)
		skipped := resendRow(t, db, "autox3", "reception_order", "4", 77, 2, 2, models.RecordSkipped, now)

		rev, raised, err := s.MarkForResend(ctx, synced.ID)
		if err != nil || !raised || rev != 5 {
			t.Fatalf("synced record: revision %d raised %v (%v), want 5 true", rev, raised, err)
		}
		after, err := s.Record(ctx, "autox3", "reception_order", "1")
		if err != nil {
			t.Fatal(err)
		}
		if after.Version != 77 || after.Data != synced.Data || after.SyncedRevision != 4 || after.SyncStatus != models.RecordPending {
			t.Fatalf("after MarkForResend: %+v", after)
		}
		// Sending it marks it synced at the new revision, as after any send.
		if cur, done, err := s.MarkSynced(ctx, after); err != nil || cur != 5 || done != 5 {
			t.Fatalf("MarkSynced = %d, %d, %v", cur, done, err)
		}

		for _, st := range []models.RecordState{pending, rejected, skipped} {
			rev, raised, err := s.MarkForResend(ctx, st.ID)
			if err != nil || raised || rev != st.Revision {
				t.Errorf("%s record: revision %d raised %v (%v), want %d untouched", st.SyncStatus, rev, raised, err, st.Revision)
			}
		}
	})
}

// Parked counts the records waiting for an operator after an ERP rejection, and only those.
func TestParkedCountsRejectedRecords(t *testing.T) {
	t.Parallel()
	testenv.EachStore(t, func(t *testing.T, db *gorm.DB) {
		s := store.New(db)
		day := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
		resendRow(t, db, "autox3", "reception_order", "1", 10, 2, 1, models.RecordRejected, day)
		resendRow(t, db, "autox3", "reception_order", "2", 10, 2, 2, models.RecordSynced, day)
		resendRow(t, db, "fenbeitong", "car_order", "3", 10, 3, 2, models.RecordRejected, day)
		resendRow(t, db, "fenbeitong", "car_order", "4", 10, 3, 2, models.RecordPending, day)
		n, oldest, err := s.Parked(context.Background())
		if err != nil || n != 2 {
			t.Fatalf("Parked = %d, %v; want 2", n, err)
		}
		if !oldest.Equal(day) {
			t.Fatalf("the longest-parked record was parked at %v, want %v", oldest, day)
		}
		resendRow(t, db, "autox3", "reception_order", "5", 10, 2, 1, models.RecordRejected, day.Add(-time.Hour))
		if _, oldest, _ = s.Parked(context.Background()); !oldest.Equal(day.Add(-time.Hour)) {
			t.Fatalf("oldest %v after an older rejection", oldest)
		}
	})
}

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
