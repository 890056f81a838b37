package sqlite

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	gsqlite "github.com/glebarez/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/migrator"
	"gorm.io/gorm/schema"

	"github.com/erpbridge/erpbridge/models"
)

// conns is the size of the pool: one writer at a time and readers beside it.
const conns = 4

// Open opens the SQLite file at path (creating its directory) with cfg:
// WAL, BEGIN IMMEDIATE, decimal and date columns declared TEXT, and a pool
// of a few connections whose writers pass the write gate (see the package
// doc).
func Open(path string, cfg *gorm.Config) (*gorm.DB, error) {
	if path == "" {
		return nil, fmt.Errorf("open sqlite: no path given")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create sqlite directory: %w", err)
	}
	// _txlock=immediate: every transaction begins IMMEDIATE (see the package doc).
	dsn := path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	pinHeap()
	db, err := gorm.Open(dialector{Dialector: gsqlite.Open(dsn).(*gsqlite.Dialector)}, cfg)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	// The write gate queues this process's writers in Go, urgent ones (the
	// edge's intake) first, while reads run beside them on the other
	// connections (WAL).
	sqlDB.SetMaxOpenConns(conns)
	sqlDB.SetMaxIdleConns(conns)
	gated := &gatedPool{DB: sqlDB, gate: &writeGate{}}
	db.ConnPool = gated
	db.Statement.ConnPool = gated
	return db, nil
}

// dialector is the pure-Go SQLite dialector with erpbridge's column types:
// DECIMAL and DATE columns are declared TEXT.
type dialector struct {
	*gsqlite.Dialector
}

// DataTypeOf declares decimal and date columns TEXT, so SQLite keeps their text.
func (d dialector) DataTypeOf(field *schema.Field) string {
	t := d.Dialector.DataTypeOf(field)
	if _, _, ok := models.DecimalSize(t); ok || strings.EqualFold(t, "date") {
		return "text"
	}
	return t
}

// Migrator is SQLite's migrator on this dialector, so migrations declare the
// same column types as DataTypeOf.
func (d dialector) Migrator(db *gorm.DB) gorm.Migrator {
	return gsqlite.Migrator{Migrator: migrator.Migrator{Config: migrator.Config{
		DB:                          db,
		Dialector:                   d,
		CreateIndexAfterCreateTable: true,
	}}}
}
