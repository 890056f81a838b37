package store_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/store"
)

// A database from before the ERP document columns is refused by
// CheckSchema, naming them, and migrated with its rows kept and their
// documents empty; MarkSynced then keeps the document the ERP told, and a
// send that tells none leaves it.
func TestERPDocumentColumnsMigrate(t *testing.T) {
	t.Parallel()
	for name, db := range openEmpty(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			if err := store.Migrate(ctx, db); err != nil {
				t.Fatal(err)
			}
			st := models.RecordState{Vendor: "fenbeitong", Kind: "car_order", ExternalID: "doc-" + name, Version: 1, Revision: 1,
				EventKey: "k1", OccurredAt: time.Now().UTC(), Data: "{}", DataSHA256: "x", SyncStatus: models.RecordPending}
			if err := db.Create(&st).Error; err != nil {
				t.Fatal(err)
			}
			for _, table := range []string{"record_states", "sync_attempts"} {
				for _, col := range []string{"erp_document_id", "erp_document_number"} {
					if err := db.Exec("ALTER TABLE " + table + " DROP COLUMN " + col).Error; err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := store.CheckSchema(ctx, db); !errors.Is(err, store.ErrSchemaNotMigrated) || !strings.Contains(err.Error(), ".erp_document_") {
				t.Fatalf("schema without the document columns: %v", err)
			}
			if err := store.Migrate(ctx, db); err != nil {
				t.Fatal(err)
			}
			if err := store.CheckSchema(ctx, db); err != nil {
				t.Fatal(err)
			}
			s := store.New(db)
			got, err := s.Record(ctx, st.Vendor, st.Kind, st.ExternalID)
			if err != nil || got.ERPDocumentID != "" || got.ERPDocumentNumber != "" || got.Revision != 1 {
				t.Fatalf("the row before the columns: %+v (%v)", got, err)
			}

			got.ERPDocumentID, got.ERPDocumentNumber = "7", "FBT-CAR-doc-"+name
			if _, _, err := s.MarkSynced(ctx, got); err != nil {
				t.Fatal(err)
			}
			if err := db.Model(&models.RecordState{}).Where("id = ?", st.ID).Update("revision", 2).Error; err != nil {
				t.Fatal(err)
			}
			got.Revision, got.ERPDocumentID, got.ERPDocumentNumber = 2, "", ""
			if _, _, err := s.MarkSynced(ctx, got); err != nil {
				t.Fatal(err)
			}
			after, _ := s.Record(ctx, st.Vendor, st.Kind, st.ExternalID)
			if after.ERPDocumentID != "7" || after.ERPDocumentNumber != "FBT-CAR-doc-"+name || after.SyncedRevision != 2 {
				t.Fatalf("after two sends: %+v", after)
			}

			long := strings.Repeat("号", 60) // 180 bytes: cut to its column, on a character boundary
			if err := s.AddAttempt(ctx, models.SyncAttempt{Vendor: st.Vendor, Kind: st.Kind, ExternalID: st.ExternalID, Revision: 2,
				IdempotencyKey: "k", Outcome: models.AttemptAccepted, ERPDocumentID: long, ERPDocumentNumber: long}); err != nil {
				t.Fatalf("an attempt with a long document: %v", err)
			}
			var at models.SyncAttempt
			db.Where("external_id = ?", st.ExternalID).Take(&at)
			if at.ERPDocumentID != strings.Repeat("号", 42) || at.ERPDocumentNumber != strings.Repeat("号", 21) {
				t.Errorf("attempt document %q / %q", at.ERPDocumentID, at.ERPDocumentNumber)
			}
		})
	}
}
