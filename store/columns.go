package store

import (
	"context"
	"fmt"
	"reflect"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"
	"gorm.io/gorm/schema"

	"github.com/erpbridge/erpbridge/models"
)

// The store keeps values the same on MySQL and SQLite, so a record reaches
// the ERP the same whichever store the service runs on:
//
//   - Exact numbers. The models declare DECIMAL columns (models.DecimalType).
//     SQLite would give such a column NUMERIC affinity and turn
//     "98765432101234.5678" into the REAL 98765432101234.58, so on SQLite the
//     same columns are declared TEXT (package sqlite's dialector) and keep
//     the decimal text as written (decimal.Decimal writes and reads its
//     text). A value that does not fit its column is never rounded by the
//     database: fitDecimals writes NULL in that column and says so in a
//     warning with the event.
//   - Dates. models.Date columns are DATE on MySQL and "YYYY-MM-DD" TEXT on
//     SQLite.
//   - Times. Every time written is a whole number of milliseconds (DATETIME(3)
//     on MySQL; SQLite would keep nanoseconds), cut before it is written by
//     the callback millisecondTimes registers and by now.

// now is the current time in UTC, cut to the millisecond like every time the store writes.
func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// registerMillisecondTimes makes every create and update cut the times it
// writes to the millisecond, in models and in update maps alike.
func registerMillisecondTimes(db *gorm.DB) error {
	if err := db.Callback().Create().Before("gorm:create").Register("erpbridge:millisecond_times", millisecondTimes); err != nil {
		return fmt.Errorf("register time callback: %w", err)
	}
	if err := db.Callback().Update().Before("gorm:update").Register("erpbridge:millisecond_times", millisecondTimes); err != nil {
		return fmt.Errorf("register time callback: %w", err)
	}
	return nil
}

var (
	timeType    = reflect.TypeFor[time.Time]()
	timePtrType = reflect.TypeFor[*time.Time]()
)

func millisecondTimes(tx *gorm.DB) {
	stmt := tx.Statement
	if m, ok := stmt.Dest.(map[string]any); ok {
		for k, v := range m {
			switch t := v.(type) {
			case time.Time:
				m[k] = t.Truncate(time.Millisecond)
			case *time.Time:
				if t != nil {
					c := t.Truncate(time.Millisecond)
					m[k] = &c
				}
			}
		}
	}
	if stmt.Schema == nil || !stmt.ReflectValue.IsValid() {
		return
	}
	var fields []*schema.Field
	for _, f := range stmt.Schema.Fields {
		if f.FieldType == timeType || f.FieldType == timePtrType {
			fields = append(fields, f)
		}
	}
	if len(fields) == 0 {
		return
	}
	ctx := stmt.Context
	cut := func(row reflect.Value) {
		for _, f := range fields {
			v, zero := f.ValueOf(ctx, row)
			if zero {
				continue
			}
			switch t := v.(type) {
			case time.Time:
				_ = f.Set(ctx, row, t.Truncate(time.Millisecond))
			case *time.Time:
				if t != nil {
					_ = f.Set(ctx, row, t.Truncate(time.Millisecond))
				}
			}
		}
	}
	rv := reflect.Indirect(stmt.ReflectValue)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		for i := 0; i < rv.Len(); i++ {
			if row := reflect.Indirect(rv.Index(i)); row.Kind() == reflect.Struct && row.CanAddr() {
				cut(row)
			}
		}
	case reflect.Struct:
		if rv.CanAddr() {
			cut(rv)
		}
	}
}

var (
	decimalType     = reflect.TypeFor[decimal.Decimal]()
	decimalPtrType  = reflect.TypeFor[*decimal.Decimal]()
	nullDecimalType = reflect.TypeFor[decimal.NullDecimal]()
)

// rowCheck checks row i of a slice of models for one field, and may change
// the row: it returns a warning ("" when the row is fine) or an error that
// ends the check.
type rowCheck func(i int, row reflect.Value) (warning string, err error)

// fitColumns parses model and runs the check that fieldCheck returns for a
// field (nil: the field needs none) on every row of rows, a slice of model.
// It returns the warnings in field order, then row order.
func fitColumns(db *gorm.DB, model, rows any, fieldCheck func(sch *schema.Schema, f *schema.Field) rowCheck) ([]string, error) {
	rv := reflect.ValueOf(rows)
	if rows == nil || rv.Kind() != reflect.Slice || rv.Len() == 0 {
		return nil, nil
	}
	stmt := &gorm.Statement{DB: db}
	if err := stmt.Parse(model); err != nil {
		return nil, fmt.Errorf("parse %T: %w", model, err)
	}
	var warnings []string
	for _, f := range stmt.Schema.Fields {
		check := fieldCheck(stmt.Schema, f)
		if check == nil {
			continue
		}
		for i := 0; i < rv.Len(); i++ {
			w, err := check(i, reflect.Indirect(rv.Index(i)))
			if err != nil {
				return nil, err
			}
			if w != "" {
				warnings = append(warnings, w)
			}
		}
	}
	return warnings, nil
}

// fitDecimals checks every decimal of rows (a slice of model) against the
// precision and scale of its column. A value that does not fit is set to
// NULL (it could only be rounded or refused by the database), and a warning
// names the table, column and row; the record's data keeps the value
// exactly. It returns the warnings, or an error for a column that cannot be
// NULL.
func fitDecimals(db *gorm.DB, model, rows any) ([]string, error) {
	return fitColumns(db, model, rows, func(sch *schema.Schema, f *schema.Field) rowCheck {
		if f.FieldType != decimalType && f.FieldType != decimalPtrType && f.FieldType != nullDecimalType {
			return nil
		}
		precision, scale, ok := models.DecimalSize(string(f.DataType))
		if !ok {
			return nil
		}
		return func(i int, row reflect.Value) (string, error) {
			ctx := context.Background()
			v, zero := f.ValueOf(ctx, row)
			var d decimal.Decimal
			switch x := v.(type) {
			case decimal.Decimal:
				d = x
			case *decimal.Decimal:
				if x == nil {
					return "", nil
				}
				d = *x
			case decimal.NullDecimal:
				if !x.Valid {
					return "", nil
				}
				d = x.Decimal
			}
			if zero && f.FieldType == decimalType || models.DecimalFits(d, precision, scale) {
				return "", nil
			}
			if f.FieldType == decimalType {
				return "", fmt.Errorf("%s.%s row %d: the value does not fit DECIMAL(%d,%d) and the column cannot be NULL",
					sch.Table, f.DBName, i, precision, scale)
			}
			if err := f.Set(ctx, row, nil); err != nil {
				return "", fmt.Errorf("clear %s.%s: %w", sch.Table, f.DBName, err)
			}
			return fmt.Sprintf("%s.%s (row %d): has more digits than DECIMAL(%d,%d) holds; stored NULL there, kept exactly in the record's data",
				sch.Table, f.DBName, i, precision, scale), nil
		}
	})
}

// fitText makes the text of rows fit their VARCHAR columns: a value longer
// than its column (a phone number, a code, an id that is no key) is stored
// cut to the column's size, rune-safe, with a warning naming the table,
// column and row, never the value; the record's data keeps it whole. Free
// text has MEDIUMTEXT columns, and the keys of rows are bounded by the
// vendors' decoders, so a key column too short is an error, not a cut.
func fitText(db *gorm.DB, model, rows any) ([]string, error) {
	return fitColumns(db, model, rows, func(sch *schema.Schema, f *schema.Field) rowCheck {
		if f.FieldType.Kind() != reflect.String || f.Size <= 0 || f.DBName == "" {
			return nil
		}
		return func(i int, row reflect.Value) (string, error) {
			ctx := context.Background()
			v, zero := f.ValueOf(ctx, row)
			s, ok := v.(string)
			if zero || !ok || utf8.RuneCountInString(s) <= f.Size {
				return "", nil
			}
			if f.PrimaryKey || isIndexed(sch, f) {
				return "", fmt.Errorf("%s.%s row %d: a key of %d characters does not fit its column of %d",
					sch.Table, f.DBName, i, utf8.RuneCountInString(s), f.Size)
			}
			if err := f.Set(ctx, row, cutRunes(s, f.Size)); err != nil {
				return "", fmt.Errorf("cut %s.%s: %w", sch.Table, f.DBName, err)
			}
			return fmt.Sprintf("%s.%s (row %d): longer than its column's %d characters; stored cut to %d there, kept whole in the record's data",
				sch.Table, f.DBName, i, f.Size, f.Size), nil
		}
	})
}

// isIndexed reports whether a field is part of an index of its table.
func isIndexed(sch *schema.Schema, f *schema.Field) bool {
	for _, idx := range sch.ParseIndexes() {
		for _, opt := range idx.Fields {
			if opt.Field == f {
				return true
			}
		}
	}
	return false
}

// cutRunes cuts s to at most n characters.
func cutRunes(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}
