package store_test

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"

	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/store"
	"github.com/erpbridge/erpbridge/vendors"
)

// storedTimes is every time the store wrote for one event and its record.
type storedTimes struct {
	ReceivedAt, OccurredAt, StartedAt, CreatedAt, UpdatedAt time.Time
	RecordOccurredAt, RecordCreatedAt                       time.Time
}

// Every time column holds whole milliseconds, on both stores, whatever the
// precision of the times it was given.
func TestTimesAreMilliseconds(t *testing.T) {
	t.Parallel()
	received := time.Date(2025, 3, 1, 8, 0, 0, 123456789, time.UTC)
	occurred := time.Date(2025, 3, 1, 16, 0, 0, 987654321, time.FixedZone("CST", 8*3600))
	got := map[string]storedTimes{}
	for name, open := range testenv.Databases(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			st := store.New(db)
			in := store.Inbound{Vendor: "v", EventKey: "k-1", EventType: "t", Body: []byte(`{}`), WorkflowID: "v:k-1", ReceivedAt: received}
			if _, err := st.Receive(t.Context(), in); err != nil {
				t.Fatal(err)
			}
			_, _, err := st.Persist(t.Context(), in, func([]byte) (*vendors.Event, error) {
				return &vendors.Event{Vendor: "v", EventKey: "k-1", Kind: "thing", ExternalID: "1", Version: 1, OccurredAt: occurred,
					Data: map[string]string{}}, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			var ev models.InboundEvent
			if err := db.Take(&ev).Error; err != nil {
				t.Fatal(err)
			}
			rec, err := st.Record(t.Context(), "v", "thing", "1")
			if err != nil {
				t.Fatal(err)
			}
			times := storedTimes{ev.ReceivedAt, ev.OccurredAt, *ev.StartedAt, ev.CreatedAt, ev.UpdatedAt, rec.OccurredAt, rec.CreatedAt}
			v := reflect.ValueOf(times)
			for i := range v.NumField() {
				if tm := v.Field(i).Interface().(time.Time); tm.Nanosecond()%int(time.Millisecond) != 0 {
					t.Errorf("%s = %s: finer than a millisecond", v.Type().Field(i).Name, tm.Format(time.RFC3339Nano))
				}
			}
			if !ev.ReceivedAt.Equal(received.Truncate(time.Millisecond)) || !rec.OccurredAt.Equal(occurred.Truncate(time.Millisecond)) {
				t.Fatalf("received %s, occurred %s", ev.ReceivedAt, rec.OccurredAt)
			}
			got[name] = storedTimes{ReceivedAt: ev.ReceivedAt.UTC(), OccurredAt: ev.OccurredAt.UTC(), RecordOccurredAt: rec.OccurredAt.UTC()}
		})
	}
	if a, b := got["mysql"], got["sqlite"]; len(got) == 2 && a != b {
		t.Fatalf("the stores differ:\nmysql  %+v\nsqlite %+v", a, b)
	}
}

// Warnings of the decoder and of the store are kept with the event; a row
// without any (one stored before the column existed) reads as none.
func TestWarningsKeptWithTheEvent(t *testing.T) {
	t.Parallel()
	testenv.EachStore(t, func(t *testing.T, db *gorm.DB) {
		st := store.New(db)
		tooFine := decimal.RequireFromString("0." + "000000000000000000000000000000" + "1")
		in := store.Inbound{Vendor: "v", EventKey: "k-1", EventType: "t", Body: []byte(`{}`), WorkflowID: "v:k-1", ReceivedAt: time.Now()}
		_, ev, err := st.Persist(t.Context(), in, func([]byte) (*vendors.Event, error) {
			return &vendors.Event{Vendor: "v", EventKey: "k-1", Kind: "thing", ExternalID: "1", Version: 1, OccurredAt: time.Now(),
				Data:     map[string]string{},
				Warnings: []string{"content.oilGauge: is over 100, which a percentage should not be; kept as sent"},
				Tables: []vendors.Table{{Model: &models.FenbeitongPriceSummary{}, Match: map[string]any{"order_id": "1"},
					Rows: []models.FenbeitongPriceSummary{{OrderID: "1", TotalPrice: decimal.NullDecimal{Decimal: tooFine, Valid: true},
						CouponAmount: decimal.NewNullDecimal(decimal.RequireFromString("0.5"))}}}},
			}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{
			"content.oilGauge: is over 100, which a percentage should not be; kept as sent",
			"fenbeitong_price_summaries.total_price (row 0): has more digits than DECIMAL(65,30) holds; stored NULL there, kept exactly in the record's data",
		}
		if !reflect.DeepEqual(ev.Warnings, want) {
			t.Fatalf("event warnings %q", ev.Warnings)
		}
		var row models.InboundEvent
		if err := db.Take(&row).Error; err != nil {
			t.Fatal(err)
		}
		var stored []string
		if err := json.Unmarshal([]byte(row.Warnings), &stored); err != nil || !reflect.DeepEqual(stored, want) {
			t.Fatalf("stored warnings %q (%v)", row.Warnings, err)
		}
		var sum models.FenbeitongPriceSummary
		if err := db.Take(&sum).Error; err != nil {
			t.Fatal(err)
		}
		if sum.TotalPrice.Valid || sum.CouponAmount.Decimal.String() != "0.5" {
			t.Fatalf("summary %+v", sum)
		}

		if err := db.Exec("UPDATE inbound_events SET warnings = NULL").Error; err != nil {
			t.Fatal(err)
		}
		row = models.InboundEvent{}
		if err := db.Take(&row).Error; err != nil || row.Warnings != "" {
			t.Fatalf("NULL warnings read as %q (%v)", row.Warnings, err)
		}
	})
}

// legacyReceptionOrder is autox3_reception_orders before the production date
// became a DATE: midnight in China stored as a UTC instant.
type legacyReceptionOrder struct {
	ReceiveBaseID     int64  `gorm:"primaryKey;autoIncrement:false"`
	MsgID             string `gorm:"size:128;not null"`
	CarBrand          string `gorm:"size:128;not null"`
	CarStyle          string `gorm:"size:255;not null"`
	CarPlate          string `gorm:"size:64;not null"`
	CarVIN            string `gorm:"column:car_vin;size:64;not null"`
	OwnerFirstName    string `gorm:"size:128;not null"`
	OwnerLastName     string `gorm:"size:128;not null"`
	OwnerGender       string `gorm:"size:32;not null"`
	OwnerMobile       string `gorm:"size:64;not null"`
	CarProductionDate *time.Time
	Odometer          *decimal.Decimal `gorm:"type:decimal(12,1)"`
	OilGauge          *decimal.Decimal `gorm:"type:decimal(4,1)"`
	Remark            string           `gorm:"type:text;not null"`
	OperatorStoreID   *int64
	OperatorUserID    *int64
	OperatorBrandID   *int64
	StaffID           *int64
	StaffStoreID      *int64
	StaffBrandID      *int64
	Version           int64     `gorm:"not null"`
	CreatedTime       time.Time `gorm:"not null"`
}

func (legacyReceptionOrder) TableName() string { return "autox3_reception_orders" }

// Migrating a database whose production dates were stored as instants keeps
// each date on its day in China, and widens the decimal columns.
func TestMigrateProductionDatesToDates(t *testing.T) {
	t.Parallel()
	for name, db := range openEmpty(t) {
		t.Run(name, func(t *testing.T) {
			if err := db.AutoMigrate(&legacyReceptionOrder{}); err != nil {
				t.Fatal(err)
			}
			instant := time.Date(2011, 12, 31, 16, 0, 0, 0, time.UTC) // 2012-01-01 00:00 in China
			odo := decimal.RequireFromString("67000.5")
			rows := []legacyReceptionOrder{
				{ReceiveBaseID: 1, MsgID: "m", CarProductionDate: &instant, Odometer: &odo, CreatedTime: instant},
				{ReceiveBaseID: 2, MsgID: "m", CreatedTime: instant},
			}
			if err := db.Create(&rows).Error; err != nil {
				t.Fatal(err)
			}
			if err := store.Migrate(t.Context(), db); err != nil {
				t.Fatal(err)
			}
			if err := store.CheckSchema(t.Context(), db); err != nil {
				t.Fatal(err)
			}
			var got []models.AutoX3ReceptionOrder
			if err := db.Order("receive_base_id").Find(&got).Error; err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || got[0].CarProductionDate.String() != "2012-01-01" || got[1].CarProductionDate.Valid ||
				got[0].Odometer.String() != "67000.5" {
				t.Fatalf("rows %+v", got)
			}
			// Migrating again changes nothing.
			if err := store.Migrate(t.Context(), db); err != nil {
				t.Fatal(err)
			}
			got = nil
			if err := db.Order("receive_base_id").Find(&got).Error; err != nil || got[0].CarProductionDate.String() != "2012-01-01" {
				t.Fatalf("after a second migration %+v (%v)", got, err)
			}
		})
	}
}

// On SQLite, decimal and date columns are TEXT, so values keep their text.
func TestSQLiteColumnTypes(t *testing.T) {
	t.Parallel()
	db, err := store.Open("", filepath.Join(t.TempDir(), "erpbridge.db"))
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, _ := db.DB()
	defer sqlDB.Close()
	if err := store.Migrate(t.Context(), db); err != nil {
		t.Fatal(err)
	}
	cols, err := db.Migrator().ColumnTypes("autox3_reception_orders")
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]string{}
	for _, c := range cols {
		types[c.Name()] = c.DatabaseTypeName()
	}
	if types["odometer"] != "text" || types["car_production_date"] != "text" || types["created_time"] != "datetime" {
		t.Fatalf("column types %v", types)
	}
}
