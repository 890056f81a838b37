package config_test

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/config"
)

// readElsewhere are variables docs/configuration.md documents that package
// config does not read.
var readElsewhere = []string{
	"GOMEMLIMIT",   // the Go runtime
	"TEMPORAL_CLI", // tools/devstack, for erpbridge dev and the tests
}

// What the reference's cells hold: backquoted text, a variable's name, a
// field's path.
var (
	backquoted   = regexp.MustCompile("`([^`]+)`")
	variableName = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)
	fieldPath    = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*(\.[A-Z][A-Za-z0-9]*)?$`)
)

// docRow is a row of one of docs/configuration.md's tables, with the
// header of its table.
type docRow struct{ header, cells []string }

// docRows returns the rows of docs/configuration.md's tables, their headers
// and separators left out.
func docRows(t *testing.T) []docRow {
	t.Helper()
	b, err := os.ReadFile("../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	var rows []docRow
	var header []string
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case !strings.HasPrefix(line, "| "):
			header = nil
		case strings.HasPrefix(line, "| ---"):
		case header == nil:
			header = tableCells(line)
		default:
			rows = append(rows, docRow{header, tableCells(line)})
		}
	}
	return rows
}

// tableCells splits a table row into its cells, trimmed.
func tableCells(line string) []string {
	cells := strings.Split(strings.Trim(line, "|"), "|")
	for i := range cells {
		cells[i] = strings.TrimSpace(cells[i])
	}
	return cells
}

// docTables returns the backquoted names in the first and second cells of
// the rows of docs/configuration.md's tables: the variables and the fields.
func docTables(t *testing.T) (variables, fields map[string]bool) {
	t.Helper()
	variables, fields = map[string]bool{}, map[string]bool{}
	for _, row := range docRows(t) {
		for _, m := range backquoted.FindAllStringSubmatch(row.cells[0], -1) {
			if variableName.MatchString(m[1]) {
				variables[m[1]] = true
			}
		}
		if len(row.cells) > 1 {
			for _, m := range backquoted.FindAllStringSubmatch(row.cells[1], -1) {
				if fieldPath.MatchString(m[1]) && !variableName.MatchString(m[1]) {
					fields[m[1]] = true
				}
			}
		}
	}
	return variables, fields
}

// configFields lists every field of Config by its path (HTTP.ReadTimeout).
// The connectors' settings are theirs (config.Kingdee is kingdee.Config):
// walked like the config package's own.
func configFields() []string {
	var fields []string
	var walk func(prefix string, typ reflect.Type)
	walk = func(prefix string, typ reflect.Type) {
		for f := range typ.Fields() {
			if f.Type.Kind() == reflect.Struct && strings.HasPrefix(f.Type.PkgPath(), "github.com/erpbridge/erpbridge/") {
				walk(prefix+f.Name+".", f.Type)
				continue
			}
			fields = append(fields, prefix+f.Name)
		}
	}
	walk("", reflect.TypeFor[config.Config]())
	return fields
}

// fieldOf is the field of c at path (HTTP.ReadTimeout).
func fieldOf(c config.Config, path string) reflect.Value {
	v := reflect.ValueOf(c)
	for _, name := range strings.Split(path, ".") {
		v = v.FieldByName(name)
	}
	return v
}

// The configuration reference documents every variable FromEnv reads, and
// names none it does not (besides those read elsewhere, listed above).
func TestDocsListEveryVariable(t *testing.T) {
	documented, _ := docTables(t)
	read := config.Variables()
	for _, name := range read {
		if !documented[name] {
			t.Errorf("FromEnv reads %s, which docs/configuration.md does not document", name)
		}
	}
	for name := range documented {
		if !slices.Contains(read, name) && !slices.Contains(readElsewhere, name) {
			t.Errorf("docs/configuration.md documents %s, which FromEnv does not read", name)
		}
	}
	for _, name := range readElsewhere {
		if slices.Contains(read, name) {
			t.Errorf("%s is listed as read elsewhere, but FromEnv reads it", name)
		}
	}
	// Every secret's _FILE form is among them.
	for _, name := range []string{"MYSQL_DSN_FILE", "MYSQL_PASSWORD_FILE", "ERP_TOKEN_FILE", "AUTOX3_APP_SECRET_FILE",
		"FENBEITONG_TOKEN_FILE", "PAYLOAD_KEY_FILE", "PAYLOAD_OLD_KEYS_FILE", "CODEC_SERVER_TOKEN_FILE"} {
		if !slices.Contains(read, name) {
			t.Errorf("FromEnv does not read %s", name)
		}
	}
}

// The configuration reference names every field of Config, by its path
// (HTTP.ReadTimeout), and no field Config does not have.
func TestDocsListEveryField(t *testing.T) {
	_, documented := docTables(t)
	have := map[string]bool{}
	for _, name := range configFields() {
		have[name] = true
	}
	var missing, unknown []string
	for name := range have {
		if !documented[name] {
			missing = append(missing, name)
		}
	}
	for name := range documented {
		if !have[name] {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(missing)
	sort.Strings(unknown)
	if len(missing) > 0 {
		t.Errorf("docs/configuration.md does not document the fields %s", strings.Join(missing, ", "))
	}
	if len(unknown) > 0 {
		t.Errorf("docs/configuration.md documents fields Config does not have: %s", strings.Join(unknown, ", "))
	}
}

// setting is a row of the configuration reference's tables of variables:
// its variable (the first named; none for a field without one), its
// field's path and its default cell.
type setting struct{ variable, field, def string }

// Forms of a default cell.
var (
	// defaultValue is a value, written as the variable's would be, with
	// perhaps a note in parentheses after it.
	defaultValue = regexp.MustCompile("^`([^`]+)`(?: \\(.*\\))?$")
	// defaultPlus is another variable's default and a duration added to it.
	defaultPlus = regexp.MustCompile("^`([A-Z][A-Z0-9_]*)` \\+ ([0-9a-z.]+)$")
)

// documentedDefault is the value of s's field that s's default cell gives,
// with byVariable the settings by their variables. A value is read by
// FromEnv as s's variable, with $NAME in it standing for NAME's default.
func documentedDefault(s setting, byVariable map[string]setting) (any, error) {
	if s.def == "" || strings.HasPrefix(s.def, "*(") {
		return reflect.Zero(fieldOf(config.Config{}, s.field).Type()).Interface(), nil
	}
	if m := defaultPlus.FindStringSubmatch(s.def); m != nil {
		of, ok := byVariable[m[1]]
		if !ok {
			return nil, fmt.Errorf("the default %q adds to %s, which no row names", s.def, m[1])
		}
		base, err := documentedDefault(of, byVariable)
		if err != nil {
			return nil, err
		}
		d, err := time.ParseDuration(m[2])
		if err != nil {
			return nil, err
		}
		if base, ok := base.(time.Duration); ok {
			return base + d, nil
		}
		return nil, fmt.Errorf("%s's default is not a duration", m[1])
	}
	m := defaultValue.FindStringSubmatch(s.def)
	if m == nil {
		return nil, fmt.Errorf("the default %q is neither a value, a sum nor a note in italics", s.def)
	}
	if s.variable == "" {
		return nil, fmt.Errorf("the default %q has no variable to be read as", s.def)
	}
	var unknown []string
	value := os.Expand(m[1], func(name string) string {
		if m := defaultValue.FindStringSubmatch(byVariable[name].def); m != nil {
			return m[1]
		}
		unknown = append(unknown, name)
		return ""
	})
	if len(unknown) > 0 {
		return nil, fmt.Errorf("the default %q names variables without a default value: %s", s.def, strings.Join(unknown, ", "))
	}
	c, err := config.FromEnv(env(map[string]string{s.variable: value}))
	if err != nil {
		return nil, err
	}
	return fieldOf(c, s.field).Interface(), nil
}

// The configuration reference gives the default of every field, and FromEnv
// of nothing has it.
func TestDocsGiveEveryDefault(t *testing.T) {
	fields := configFields()
	var settings []setting
	byVariable := map[string]setting{}
	for _, row := range docRows(t) {
		if !slices.Equal(row.header, []string{"variable", "field", "default", "meaning"}) {
			continue
		}
		// A field cell that is not one field of Config is a note (what
		// OTEL_SDK_DISABLED turns), or a field TestDocsListEveryField reports.
		f := backquoted.FindStringSubmatch(row.cells[1])
		if f == nil || f[0] != row.cells[1] || !slices.Contains(fields, f[1]) {
			continue
		}
		s := setting{field: f[1], def: row.cells[2]}
		if v := backquoted.FindStringSubmatch(row.cells[0]); v != nil {
			s.variable = v[1]
			byVariable[s.variable] = s
		}
		settings = append(settings, s)
	}
	got := fromEnv(t, nil)
	checked := map[string]bool{}
	for _, s := range settings {
		want, err := documentedDefault(s, byVariable)
		if err != nil {
			t.Errorf("docs/configuration.md, default of %s: %v", s.field, err)
			continue
		}
		if have := fieldOf(got, s.field).Interface(); !reflect.DeepEqual(have, want) {
			t.Errorf("FromEnv of nothing has %s = %v, but docs/configuration.md gives %q as its default (%v)", s.field, have, s.def, want)
		}
		checked[s.field] = true
	}
	for _, name := range fields {
		if !checked[name] {
			t.Errorf("docs/configuration.md gives no default of %s to check", name)
		}
	}
}
