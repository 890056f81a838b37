package sqlite

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/erpbridge/erpbridge/models"
)

// openTest opens a fresh SQLite file in the test's temporary directory.
func openTest(t testing.TB) *gorm.DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "sub", "test.db"), &gorm.Config{TranslateError: true, Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sqlDB.Close() })
	return db
}

// measured has a decimal, a date and a time column.
type measured struct {
	ID       int64
	Amount   decimal.Decimal  `gorm:"type:decimal(65,30)"`
	Odometer *decimal.Decimal `gorm:"type:decimal(12,1)"`
	Day      models.Date
	At       time.Time
}

// Decimal and date columns are TEXT, so values keep their text exactly; a
// time column stays a datetime. The file's directory is created.
func TestColumnTypes(t *testing.T) {
	db := openTest(t)
	if err := db.AutoMigrate(&measured{}); err != nil {
		t.Fatal(err)
	}
	cols, err := db.Migrator().ColumnTypes(&measured{})
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]string{}
	for _, c := range cols {
		types[c.Name()] = c.DatabaseTypeName()
	}
	if types["amount"] != "text" || types["odometer"] != "text" || types["day"] != "text" || types["at"] != "datetime" {
		t.Fatalf("column types %v", types)
	}
	exact := decimal.RequireFromString("98765432101234.5678")
	if err := db.Create(&measured{ID: 1, Amount: exact, At: time.Now()}).Error; err != nil {
		t.Fatal(err)
	}
	var text string
	if err := db.Raw("SELECT amount FROM measureds WHERE id = 1").Scan(&text).Error; err != nil || text != "98765432101234.5678" {
		t.Fatalf("stored amount %q (%v), want the decimal's text", text, err)
	}
}

// The pragmas of the DSN are in force on every connection.
func TestPragmas(t *testing.T) {
	db := openTest(t)
	for pragma, want := range map[string]string{"journal_mode": "wal", "foreign_keys": "1", "synchronous": "1", "busy_timeout": "10000"} {
		var got string
		if err := db.Raw("PRAGMA " + pragma).Scan(&got).Error; err != nil || got != want {
			t.Errorf("PRAGMA %s = %q (%v), want %q", pragma, got, err, want)
		}
	}
}
