package config_test

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/config"
)

// readElsewhere are variables docs/configuration.md documents that package
// config does not read.
var readElsewhere = []string{
	"GOMEMLIMIT",   // the Go runtime
	"TEMPORAL_CLI", // tools/devstack, for erpbridge dev and the tests
}

// docTables returns the backquoted names in the first and second cells of
// the rows of docs/configuration.md's tables: the variables and the fields.
func docTables(t *testing.T) (variables, fields map[string]bool) {
	t.Helper()
	b, err := os.ReadFile("../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	quoted := regexp.MustCompile("`([^`]+)`")
	variable := regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)
	field := regexp.MustCompile(`^[A-Z][A-Za-z0-9]*(\.[A-Z][A-Za-z0-9]*)?$`)
	variables, fields = map[string]bool{}, map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| ---") {
			continue
		}
		cells := strings.Split(line, " | ")
		for _, m := range quoted.FindAllStringSubmatch(cells[0], -1) {
			if variable.MatchString(m[1]) {
				variables[m[1]] = true
			}
		}
		if len(cells) > 1 {
			for _, m := range quoted.FindAllStringSubmatch(cells[1], -1) {
				if field.MatchString(m[1]) && !variable.MatchString(m[1]) {
					fields[m[1]] = true
				}
			}
		}
	}
	return variables, fields
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
	var walk func(prefix string, typ reflect.Type)
	walk = func(prefix string, typ reflect.Type) {
		for f := range typ.Fields() {
			// The connectors' settings are theirs (config.Kingdee is
			// kingdee.Config): walked like the config package's own.
			if f.Type.Kind() == reflect.Struct && strings.HasPrefix(f.Type.PkgPath(), "github.com/erpbridge/erpbridge/") {
				walk(prefix+f.Name+".", f.Type)
				continue
			}
			have[prefix+f.Name] = true
		}
	}
	walk("", reflect.TypeFor[config.Config]())
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
