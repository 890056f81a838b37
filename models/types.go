package models

import (
	"database/sql/driver"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
)

// Decimal columns: every exact number is declared with DecimalType, the
// widest DECIMAL MySQL and MariaDB have (35 digits before the point, 30
// after). On SQLite the store declares the same columns TEXT, so the decimal
// text is kept as written instead of becoming a REAL. A value that does not
// fit its column is never rounded: the store writes NULL in that column and
// records a warning with the event (see store.Persist), while the record's
// data, sent to the ERP and kept in record_states.data, holds it exactly.
const (
	DecimalPrecision = 65
	DecimalScale     = 30
	DecimalType      = "decimal(65,30)"
)

var decimalTypePattern = regexp.MustCompile(`^(?i:decimal|numeric)\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)`)

// DecimalSize returns the precision and scale of a column type such as
// "decimal(65,30)"; ok is false for a type that is not a sized DECIMAL.
func DecimalSize(columnType string) (precision, scale int, ok bool) {
	m := decimalTypePattern.FindStringSubmatch(columnType)
	if m == nil {
		return 0, 0, false
	}
	precision, _ = strconv.Atoi(m[1])
	if m[2] != "" {
		scale, _ = strconv.Atoi(m[2])
	}
	return precision, scale, true
}

// DecimalFits reports whether d fits a DECIMAL(precision, scale) column
// exactly: at most scale significant digits after the point and at most
// precision-scale before it.
func DecimalFits(d decimal.Decimal, precision, scale int) bool {
	if d.Exponent() < int32(-scale) && !d.Equal(d.Truncate(int32(scale))) {
		return false
	}
	return d.Abs().LessThan(decimal.New(1, int32(precision-scale)))
}

// Date is a calendar date with no time of day and no zone, such as a car's
// production date: "2012-01-01" in JSON, a DATE column on MySQL and its
// "YYYY-MM-DD" text on SQLite. The zero Date is absent: null in JSON, NULL
// in the database.
type Date struct {
	Year  int
	Month time.Month
	Day   int
	Valid bool // false when absent
}

// DateOf returns the calendar date of t in t's own location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d, Valid: true}
}

// ParseDate reads "YYYY-MM-DD".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("not a date (YYYY-MM-DD): %w", err)
	}
	return DateOf(t), nil
}

// String returns "YYYY-MM-DD", or "" when absent.
func (d Date) String() string {
	if !d.Valid {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// MarshalJSON writes "YYYY-MM-DD", or null.
func (d Date) MarshalJSON() ([]byte, error) {
	if !d.Valid {
		return []byte("null"), nil
	}
	return []byte(`"` + d.String() + `"`), nil
}

// UnmarshalJSON reads "YYYY-MM-DD" or null.
func (d *Date) UnmarshalJSON(b []byte) error {
	*d = Date{}
	if string(b) == "null" {
		return nil
	}
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return fmt.Errorf("date: not a JSON string")
	}
	v, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// GormDataType declares the column DATE (the store declares it TEXT on SQLite).
func (Date) GormDataType() string { return "date" }

// Value writes "YYYY-MM-DD", which a DATE column and a TEXT column both keep
// as that day; NULL when absent.
func (d Date) Value() (driver.Value, error) {
	if !d.Valid {
		return nil, nil
	}
	return d.String(), nil
}

// Scan reads a DATE (a time.Time at midnight, as the MySQL driver gives it
// with parseTime) or its text.
func (d *Date) Scan(src any) error {
	*d = Date{}
	switch v := src.(type) {
	case nil:
		return nil
	case time.Time:
		*d = DateOf(v)
		return nil
	case []byte:
		return d.scanText(string(v))
	case string:
		return d.scanText(v)
	default:
		return fmt.Errorf("date: cannot scan %T", src)
	}
}

func (d *Date) scanText(s string) error {
	if len(s) > len(time.DateOnly) {
		s = s[:len(time.DateOnly)] // "2012-01-01 00:00:00" from a DATETIME column
	}
	v, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}
