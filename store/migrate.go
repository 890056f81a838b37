package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/erpbridge/erpbridge/models"
)

// migrationLockWait is how long a migration waits for another one to finish.
const migrationLockWait = 5 * time.Minute

// Migrate creates or updates every table. On MySQL it first takes a named
// lock for the database (GET_LOCK) on a connection of its own, held until it
// is done, so two migrations started together (two migrate jobs, or dev
// processes) run one after the other instead of racing on CREATE TABLE; the
// second then finds nothing to do. SQLite serialises writers to its one file
// itself.
func Migrate(ctx context.Context, db *gorm.DB) error {
	db = db.WithContext(ctx)
	if db.Dialector.Name() != "mysql" {
		return autoMigrate(db)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate schema: %w", err)
	}
	defer conn.Close() // closing the session would release the lock too
	var name string
	if err := conn.QueryRowContext(ctx, "SELECT LEFT(CONCAT('erpbridge.migrate.', DATABASE()), 64)").Scan(&name); err != nil {
		return fmt.Errorf("migrate schema: name the lock: %w", err)
	}
	wait := migrationLockWait
	if d, ok := ctx.Deadline(); ok && time.Until(d) < wait {
		wait = time.Until(d)
	}
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, ?)", name, int(wait.Seconds())).Scan(&got); err != nil {
		return fmt.Errorf("migrate schema: take lock %s: %w", name, err)
	}
	if got.Int64 != 1 {
		return fmt.Errorf("migrate schema: another migration has held lock %s for %s", name, wait)
	}
	defer conn.ExecContext(context.Background(), "SELECT RELEASE_LOCK(?)", name)
	return autoMigrate(db)
}

func autoMigrate(db *gorm.DB) error {
	if err := db.AutoMigrate(models.All()...); err != nil {
		return fmt.Errorf("migrate schema: %w", err)
	}
	return nil
}

// ErrSchemaNotMigrated is returned by CheckSchema when a table or column of
// the current models is missing.
var ErrSchemaNotMigrated = errors.New("the database schema is not migrated to this version: run `erpbridge migrate` first")

// CheckSchema verifies, without changing anything, that every table and
// column of the current models exists, so a process that must not migrate
// refuses to start on a schema the migrate command has not brought up to date.
func CheckSchema(ctx context.Context, db *gorm.DB) error {
	db = db.WithContext(ctx)
	m := db.Migrator()
	for _, model := range models.All() {
		stmt := &gorm.Statement{DB: db}
		if err := stmt.Parse(model); err != nil {
			return fmt.Errorf("check schema: %w", err)
		}
		table := stmt.Schema.Table
		if !m.HasTable(table) {
			return fmt.Errorf("%w (table %s is missing)", ErrSchemaNotMigrated, table)
		}
		cols, err := m.ColumnTypes(table)
		if err != nil {
			return fmt.Errorf("check schema: columns of %s: %w", table, err)
		}
		have := make(map[string]bool, len(cols))
		for _, c := range cols {
			have[c.Name()] = true
		}
		for _, name := range stmt.Schema.DBNames {
			if !have[name] {
				return fmt.Errorf("%w (column %s.%s is missing)", ErrSchemaNotMigrated, table, name)
			}
		}
	}
	return nil
}
