package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/store"
)

// openEmpty opens a database with no tables on each store.
func openEmpty(t *testing.T) map[string]*gorm.DB {
	t.Helper()
	out := map[string]*gorm.DB{}
	sqlitePath := filepath.Join(t.TempDir(), "erpbridge.db")
	for name, dsn := range map[string]string{"sqlite": "", "mysql": testenv.NewMySQLDatabase(t)} {
		db, err := store.Open(dsn, sqlitePath)
		if err != nil {
			t.Fatalf("open %s: %v", name, err)
		}
		sqlDB, _ := db.DB()
		t.Cleanup(func() { sqlDB.Close() })
		out[name] = db
	}
	return out
}

// A process that must not migrate can tell a schema that migrate has not
// brought up to date, table by table and column by column.
func TestCheckSchema(t *testing.T) {
	t.Parallel()
	for name, db := range openEmpty(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			if err := store.CheckSchema(ctx, db); !errors.Is(err, store.ErrSchemaNotMigrated) {
				t.Fatalf("empty database: %v", err)
			}
			if err := store.Migrate(ctx, db); err != nil {
				t.Fatal(err)
			}
			if err := store.CheckSchema(ctx, db); err != nil {
				t.Fatalf("migrated database: %v", err)
			}
			if err := db.Exec("ALTER TABLE record_states DROP COLUMN last_error").Error; err != nil {
				t.Fatal(err)
			}
			err := store.CheckSchema(ctx, db)
			if !errors.Is(err, store.ErrSchemaNotMigrated) || !strings.Contains(err.Error(), "record_states.last_error") {
				t.Fatalf("missing column: %v", err)
			}
			if err := store.Migrate(ctx, db); err != nil {
				t.Fatal(err)
			}
			if err := store.CheckSchema(ctx, db); err != nil {
				t.Fatalf("migrated again: %v", err)
			}
		})
	}
}

// While another session holds the migration lock, Migrate waits and
// creates nothing; it goes on as soon as the lock is released.
func TestMigrateWaitsForTheLock(t *testing.T) {
	t.Parallel()
	dsn := testenv.NewMySQLDatabase(t)
	db, err := store.Open(dsn, "")
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, _ := db.DB()
	t.Cleanup(func() { sqlDB.Close() })

	holder, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	conn, err := holder.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var lock string
	var got int
	if err := conn.QueryRowContext(t.Context(), "SELECT LEFT(CONCAT('erpbridge.migrate.', DATABASE()), 64)").Scan(&lock); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRowContext(t.Context(), "SELECT GET_LOCK(?, 0)", lock).Scan(&got); err != nil || got != 1 {
		t.Fatalf("take %s: %d %v", lock, got, err)
	}

	done := make(chan error, 1)
	go func() { done <- store.Migrate(context.Background(), db) }()
	// The migration's session waits inside GET_LOCK for our lock.
	testenv.Eventually(t, "the migration waiting for the lock", 30*time.Second, func() error {
		var n int
		err := conn.QueryRowContext(t.Context(),
			"SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT GET_LOCK(%' AND DB = DATABASE() AND ID <> CONNECTION_ID()").Scan(&n)
		if err == nil && n != 1 {
			err = fmt.Errorf("%d sessions wait for the lock", n)
		}
		return err
	})
	select {
	case err := <-done:
		t.Fatalf("Migrate finished while the lock was held: %v", err)
	default:
	}
	if db.Migrator().HasTable("inbound_events") {
		t.Fatal("tables were created while the lock was held")
	}
	if err := conn.QueryRowContext(t.Context(), "SELECT RELEASE_LOCK(?)", lock).Scan(&got); err != nil || got != 1 {
		t.Fatalf("release: %d %v", got, err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Migrate: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Migrate did not finish after the lock was released")
	}
	if err := store.CheckSchema(t.Context(), db); err != nil {
		t.Fatal(err)
	}
}
