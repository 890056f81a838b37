package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"

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
	for _, c := range instantsToDates {
		if err := instantToDate(db, c.table, c.column, c.offset); err != nil {
			return fmt.Errorf("migrate schema: %s.%s to a date: %w", c.table, c.column, err)
		}
	}
	if err := db.AutoMigrate(models.All()...); err != nil {
		return fmt.Errorf("migrate schema: %w", err)
	}
	return nil
}

// instantsToDates lists the columns that held a calendar date as an instant
// (the vendor's local midnight, stored in UTC: 2012-01-01 in China as
// 2011-12-31 16:00) before they became DATE columns, with the vendor's UTC
// offset. Migrate turns each stored value into its day in the vendor's zone
// before the column's type changes, so no date moves a day back.
var instantsToDates = []struct {
	table, column string
	offset        time.Duration
}{
	{"autox3_reception_orders", "car_production_date", 8 * time.Hour},
	{"autox3_maintenance_plans", "warning_date", 8 * time.Hour},
}

// instantToDate rewrites the instants of table.column as midnight of their
// day at offset, when the column still has a date-and-time type; the
// migration that follows makes it a DATE (MySQL) or TEXT (SQLite) column
// holding that day.
func instantToDate(db *gorm.DB, table, column string, offset time.Duration) error {
	m := db.Migrator()
	if !m.HasTable(table) || !m.HasColumn(table, column) {
		return nil
	}
	cols, err := m.ColumnTypes(table)
	if err != nil {
		return err
	}
	var typ string
	for _, c := range cols {
		if c.Name() == column {
			typ = strings.ToLower(c.DatabaseTypeName())
		}
	}
	if !strings.Contains(typ, "datetime") && !strings.Contains(typ, "timestamp") {
		return nil // already a date
	}
	seconds := int(offset.Seconds())
	q := fmt.Sprintf("UPDATE %s SET %s = ", table, column)
	if db.Dialector.Name() == "mysql" {
		q += fmt.Sprintf("DATE(DATE_ADD(%s, INTERVAL %d SECOND))", column, seconds)
	} else {
		q += fmt.Sprintf("date(%s, '%+d seconds')", column, seconds)
	}
	return db.Exec(q + " WHERE " + column + " IS NOT NULL").Error
}

// sameDecimalSize reports whether a MySQL DECIMAL column has the precision
// and scale its model declares: a narrower one would round what the service
// writes. SQLite declares decimals TEXT and is not checked.
func sameDecimalSize(db *gorm.DB, field *schema.Field, col gorm.ColumnType) bool {
	if field == nil || db.Dialector.Name() != "mysql" {
		return true
	}
	precision, scale, ok := models.DecimalSize(string(field.DataType))
	if !ok {
		return true
	}
	p, s, ok := col.DecimalSize()
	return ok && int(p) == precision && int(s) == scale
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
		have := make(map[string]gorm.ColumnType, len(cols))
		for _, c := range cols {
			have[c.Name()] = c
		}
		for _, name := range stmt.Schema.DBNames {
			col, ok := have[name]
			if !ok {
				return fmt.Errorf("%w (column %s.%s is missing)", ErrSchemaNotMigrated, table, name)
			}
			if !sameDecimalSize(db, stmt.Schema.FieldsByDBName[name], col) {
				return fmt.Errorf("%w (column %s.%s is not %s)", ErrSchemaNotMigrated, table, name, stmt.Schema.FieldsByDBName[name].DataType)
			}
		}
	}
	return nil
}
