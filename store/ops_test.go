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

// opsEvent stores an event row as its workflow leaves it.
func opsEvent(t *testing.T, db *gorm.DB, vendor, key, parent, kind, id string, status models.EventStatus) models.InboundEvent {
	t.Helper()
	ev := models.InboundEvent{Vendor: vendor, EventKey: key, EventType: "t", Kind: kind, ExternalID: id, Version: 5,
		OccurredAt: time.Now(), BodySHA256: "-", Body: []byte(`{"secret":"13912345678"}`), WorkflowID: vendor + ":" + key,
		SyncStatus: status, SyncDetail: "detail of " + key, ParentKey: parent, ReceivedAt: time.Now(),
		Origin: models.OriginPull, TraceParent: "00-trace-of-" + key}
	if err := db.Create(&ev).Error; err != nil {
		t.Fatal(err)
	}
	return ev
}

func eventKeys(evs []models.InboundEvent) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.EventKey
	}
	return out
}

// The events ops finds by the vendor's ids: one by its key, without its
// body but with every other column; a split message's parts, counted by
// status and listed waiting ones first; a record's events, the newest when
// there are more; events not persisted yet whose key names an order.
// LIKE's wildcards in an id match only themselves.
func TestOpsFindsEvents(t *testing.T) {
	t.Parallel()
	testenv.EachStore(t, func(t *testing.T, db *gorm.DB) {
		s := store.New(db)
		ctx := context.Background()

		opsEvent(t, db, "autox3", "m_1", "", "maintenance_message", "m_1", models.EventSplit)
		opsEvent(t, db, "autox3", "m_1#plan:a", "m_1", "maintenance_plan_item", "a", models.EventSynced)
		opsEvent(t, db, "autox3", "m_1#plan:b", "m_1", "maintenance_plan_item", "b", models.EventRejected)
		opsEvent(t, db, "autox3", "m_1#plan:c", "m_1", "maintenance_plan_item", "c", models.EventSuperseded)
		opsEvent(t, db, "autox3", "m_1#job", "m_1", "maintenance_job", "j", models.EventPending)
		// Not parts of m_1: another message whose key m_1 would match as a
		// LIKE pattern (_ is any character), and one whose key starts with m_1.
		opsEvent(t, db, "autox3", "mX1#plan:z", "mX1", "maintenance_plan_item", "z", models.EventRejected)
		opsEvent(t, db, "autox3", "m_10#plan:y", "m_10", "maintenance_plan_item", "y", models.EventRejected)

		ev, found, err := s.Event(ctx, "autox3", "m_1")
		if err != nil || !found || ev.SyncStatus != models.EventSplit || len(ev.Body) != 0 || ev.SyncDetail != "detail of m_1" ||
			ev.Origin != models.OriginPull || ev.TraceParent != "00-trace-of-m_1" {
			t.Fatalf("Event = %+v, %v, %v; want the split row, its origin and trace parent, without its body", ev, found, err)
		}
		if _, found, err := s.Event(ctx, "fenbeitong", "m_1"); err != nil || found {
			t.Fatalf("another vendor's key found: %v, %v", found, err)
		}

		parts, err := s.EventParts(ctx, "autox3", "m_1", 3)
		if err != nil {
			t.Fatal(err)
		}
		want := map[models.EventStatus]int64{models.EventSynced: 1, models.EventRejected: 1, models.EventSuperseded: 1, models.EventPending: 1}
		if parts.Total != 4 || len(parts.ByStatus) != len(want) {
			t.Fatalf("parts %+v, want 4: %v", parts, want)
		}
		for st, n := range want {
			if parts.ByStatus[st] != n {
				t.Errorf("%s parts: %d, want %d", st, parts.ByStatus[st], n)
			}
		}
		if got := eventKeys(parts.Shown); !slices.Equal(got, []string{"m_1#plan:b", "m_1#job", "m_1#plan:a"}) {
			t.Errorf("shown parts %v: want the waiting ones first, then in stored order, 3 of them", got)
		}
		if p, err := s.EventParts(ctx, "autox3", "m_1", 0); err != nil || p.Total != 4 || len(p.Shown) != 0 {
			t.Errorf("counting only: %+v, %v", p, err)
		}

		// One record's events, the newest when there are more.
		for i, st := range []models.EventStatus{models.EventSuperseded, models.EventSynced, models.EventRejected} {
			opsEvent(t, db, "fenbeitong", "3:OC_1:"+string(rune('4'+i))+"00:0123456789abcdef", "", "car_order", "OC_1", st)
		}
		opsEvent(t, db, "fenbeitong", "3:OC_1:700:fedcba9876543210", "", "", "", models.EventReceived)
		opsEvent(t, db, "fenbeitong", "3:OCX1:700:fedcba9876543210", "", "", "", models.EventReceived)
		opsEvent(t, db, "fenbeitong", "3:OC_2:700:fedcba9876543210", "", "", "", models.EventInvalid)
		evs, total, err := s.EventsOfRecord(ctx, "fenbeitong", []string{"car_order", "hotel_order"}, "OC_1", 2)
		if err != nil || total != 3 || !slices.Equal(eventKeys(evs), []string{"3:OC_1:500:0123456789abcdef", "3:OC_1:600:0123456789abcdef"}) {
			t.Fatalf("EventsOfRecord = %v (of %d), %v; want the newest two, oldest first, of 3", eventKeys(evs), total, err)
		}
		if evs, total, err := s.EventsOfRecord(ctx, "fenbeitong", nil, "OC_1", 2); err != nil || total != 0 || len(evs) != 0 {
			t.Fatalf("no kinds: %v %d %v", evs, total, err)
		}
		waiting, err := s.UnpersistedEvents(ctx, "fenbeitong", ":OC_1:", 10)
		if err != nil || !slices.Equal(eventKeys(waiting), []string{"3:OC_1:700:fedcba9876543210"}) {
			t.Fatalf("UnpersistedEvents = %v, %v; want the received push of OC_1 alone", eventKeys(waiting), err)
		}
		if waiting, err := s.UnpersistedEvents(ctx, "fenbeitong", ":OC_", 10); err != nil || len(waiting) != 2 {
			t.Fatalf("received and invalid pushes of OC_*: %v, %v", eventKeys(waiting), err)
		}
	})
}

// The records ops finds, their ERP answers, and the parked ones a bulk
// retry chooses.
func TestOpsFindsRecordsAndAttempts(t *testing.T) {
	t.Parallel()
	testenv.EachStore(t, func(t *testing.T, db *gorm.DB) {
		s := store.New(db)
		ctx := context.Background()
		day := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)

		if id, err := s.LastAttemptID(ctx); err != nil || id != 0 {
			t.Fatalf("LastAttemptID of none = %d, %v", id, err)
		}
		resendRow(t, db, "autox3", "reception_order", "6482", 10, 2, 1, models.RecordRejected, day)
		resendRow(t, db, "autox3", "inspection_report", "6482", 10, 1, 1, models.RecordSynced, day)
		resendRow(t, db, "autox3", "reception_order", "7000", 10, 3, 2, models.RecordRejected, day.Add(48*time.Hour))
		resendRow(t, db, "autox3", "reception_order", "placeholder", -1, 0, 0, models.RecordRejected, day)
		resendRow(t, db, "autox3", "reception_order", "sending", 10, 2, 1, models.RecordPending, day)
		resendRow(t, db, "fenbeitong", "car_order", "OC1", 10, 2, 1, models.RecordRejected, day)
		if err := db.Model(&models.RecordState{}).Where("external_id = ?", "6482").UpdateColumns(map[string]any{
			"data": `{"phone":"13912345678"}`, "erp_document_id": "100017", "erp_document_number": "XSDD000017"}).Error; err != nil {
			t.Fatal(err)
		}

		kinds, err := s.VendorKinds(ctx, "autox3")
		if err != nil || !slices.Equal(kinds, []string{"inspection_report", "reception_order"}) {
			t.Fatalf("VendorKinds = %v, %v", kinds, err)
		}
		st, found, err := s.FindRecord(ctx, "autox3", "reception_order", "6482")
		if err != nil || !found || st.Revision != 2 || st.SyncedRevision != 1 || st.SyncStatus != models.RecordRejected || st.Data != "" ||
			st.ERPDocumentID != "100017" || st.ERPDocumentNumber != "XSDD000017" {
			t.Fatalf("FindRecord = %+v, %v, %v; want the row and its ERP document without its data", st, found, err)
		}
		if _, found, err := s.FindRecord(ctx, "autox3", "reception_order", "nope"); err != nil || found {
			t.Fatalf("missing record found: %v, %v", found, err)
		}
		rows, err := s.RecordsByExternalID(ctx, "autox3", kinds, "6482")
		if err != nil || len(rows) != 2 || rows[0].Kind != "inspection_report" || rows[1].Kind != "reception_order" || rows[1].Data != "" {
			t.Fatalf("RecordsByExternalID = %+v, %v", rows, err)
		}
		byID, err := s.RecordsByID(ctx, []uint64{rows[1].ID, rows[0].ID})
		if err != nil || len(byID) != 2 || byID[0].ID != rows[1].ID {
			t.Fatalf("RecordsByID = %+v, %v", byID, err)
		}

		add := func(id string, rev int64, outcome models.AttemptOutcome, status int) uint64 {
			a := models.SyncAttempt{Vendor: "autox3", Kind: "reception_order", ExternalID: id, Revision: rev, Version: 10,
				IdempotencyKey: "k", Outcome: outcome, HTTPStatus: status, Detail: string(outcome)}
			if err := s.AddAttempt(ctx, a); err != nil {
				t.Fatal(err)
			}
			last, err := s.LastAttemptID(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return last
		}
		add("6482", 1, models.AttemptAccepted, 200)
		mark := add("6482", 2, models.AttemptRetry, 503)
		add("7000", 3, models.AttemptRejected, 422)
		add("6482", 2, models.AttemptRejected, 422)
		atts, total, err := s.RecordAttempts(ctx, "autox3", "reception_order", "6482", 2)
		if err != nil || total != 3 || len(atts) != 2 || atts[0].Outcome != models.AttemptRetry || atts[1].Outcome != models.AttemptRejected {
			t.Fatalf("RecordAttempts = %+v (of %d), %v; want the newest two, oldest first", atts, total, err)
		}
		after, err := s.RecordAttemptsAfter(ctx, "autox3", "reception_order", "6482", mark)
		if err != nil || len(after) != 1 || after[0].Outcome != models.AttemptRejected {
			t.Fatalf("RecordAttemptsAfter = %+v, %v", after, err)
		}
		since, err := s.AttemptsSince(ctx, mark, 10)
		if err != nil || len(since) != 2 || since[0].ExternalID != "7000" || since[1].ExternalID != "6482" {
			t.Fatalf("AttemptsSince = %+v, %v", since, err)
		}

		parked := func(f store.ParkedFilter) []string {
			t.Helper()
			n, err := s.CountParked(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			var last uint64
			for {
				page, err := s.ParkedPage(ctx, f, last, 1) // pages of one: paging is part of the test
				if err != nil {
					t.Fatal(err)
				}
				if len(page) == 0 {
					break
				}
				out = append(out, page[0].Vendor+"/"+page[0].ExternalID)
				last = page[0].ID
			}
			if n != int64(len(out)) {
				t.Fatalf("CountParked = %d, pages held %v", n, out)
			}
			return out
		}
		if got := parked(store.ParkedFilter{}); !slices.Equal(got, []string{"autox3/6482", "autox3/7000", "fenbeitong/OC1"}) {
			t.Errorf("every parked record: %v", got)
		}
		if got := parked(store.ParkedFilter{Vendor: "autox3", Kind: "reception_order", Since: day.Add(24 * time.Hour)}); !slices.Equal(got, []string{"autox3/7000"}) {
			t.Errorf("parked since the next day: %v", got)
		}
		if got := parked(store.ParkedFilter{Kind: "inspection_report"}); len(got) != 0 {
			t.Errorf("parked reports: %v", got)
		}
	})
}
