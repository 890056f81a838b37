package golden

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/erp"
)

// Record is one record a golden file holds, as the ERP is sent it.
type Record struct {
	// Name is the golden file's name and the record's place in it: "#0" for
	// the message's own record, "#1" on for its parts' in order (a message
	// that is split has no record of its own).
	Name string
	erp.Record
}

// Records returns the records the golden files whose names match pattern
// (a glob, e.g. "*_full.json") hold, in the order of the files' names, for
// the tests of the ERP connectors and mappings; it fails the test when no
// file matches or one cannot be read.
func Records(t testing.TB, pattern string) []Record {
	t.Helper()
	_, src, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("golden.Records: cannot locate the golden files")
	}
	files, err := filepath.Glob(filepath.Join(filepath.Dir(src), "testdata", "golden", pattern))
	if err != nil || len(files) == 0 {
		t.Fatalf("golden files %s: %v (%d files)", pattern, err, len(files))
	}
	type body struct {
		ERP *struct {
			Body json.RawMessage `json:"body"`
		} `json:"erp"`
	}
	var out []Record
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var g struct {
			body
			Parts []body `json:"parts"`
		}
		if err := json.Unmarshal(raw, &g); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for i, b := range append([]body{g.body}, g.Parts...) {
			if b.ERP == nil {
				if i > 0 {
					t.Fatalf("%s: part %d has no erp body", f, i)
				}
				continue
			}
			r := Record{Name: filepath.Base(f) + "#" + strconv.Itoa(i)}
			if err := json.Unmarshal(b.ERP.Body, &r.Record); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			out = append(out, r)
		}
	}
	return out
}

// RecordNamed is the golden record called name (see Record.Name), failing
// the test when there is none.
func RecordNamed(t testing.TB, name string) erp.Record {
	t.Helper()
	file := name
	if i := strings.LastIndex(name, "#"); i >= 0 {
		file = name[:i]
	}
	for _, r := range Records(t, file) {
		if r.Name == name {
			return r.Record
		}
	}
	t.Fatalf("no golden record %s", name)
	return erp.Record{}
}
