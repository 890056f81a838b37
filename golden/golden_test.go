package golden

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/erpbridge/erpbridge/activities"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/store"
	"github.com/erpbridge/erpbridge/vendors"
	"github.com/erpbridge/erpbridge/vendors/autox3"
	"github.com/erpbridge/erpbridge/vendors/fenbeitong"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the SQLite run (the MariaDB run must then match it)")

// decoders are the vendors' decoders by the name a fixture file starts with.
var decoders = map[string]store.Decoder{
	vendors.AutoX3:     autox3.Decode,
	vendors.Fenbeitong: fenbeitong.Decode,
}

// receivedAt is when every fixture is taken to have arrived.
var receivedAt = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// stores are the stores each fixture runs on, SQLite first: with -update it
// writes the golden file the MariaDB run is then held to.
var stores = []struct {
	name string
	open func(testing.TB) *gorm.DB
}{
	{"sqlite", testenv.SQLite},
	{"mysql", testenv.MySQL},
}

func TestGolden(t *testing.T) {
	fixtures, err := filepath.Glob(filepath.Join("testdata", "fixtures", "*.json"))
	if err != nil || len(fixtures) == 0 {
		t.Fatalf("no fixtures (%v)", err)
	}
	for _, fixture := range fixtures {
		name := strings.TrimSuffix(filepath.Base(fixture), ".json")
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(fixture)
			if err != nil {
				t.Fatal(err)
			}
			vendor, _, _ := strings.Cut(name, "_")
			decode, ok := decoders[vendor]
			if !ok {
				t.Fatalf("fixture %s: no vendor %q (name fixtures <vendor>_<what>.json)", fixture, vendor)
			}
			path := filepath.Join("testdata", "golden", name+".json")
			for _, s := range stores {
				t.Run(s.name, func(t *testing.T) {
					got := run(t, s.open(t), vendor, body, decode)
					if *update && s.name == stores[0].name {
						if err := os.WriteFile(path, got, 0o644); err != nil {
							t.Fatal(err)
						}
						return
					}
					want, err := os.ReadFile(path)
					if err != nil {
						t.Fatalf("%v (run go test ./golden -update to write it)", err)
					}
					if !bytes.Equal(got, want) {
						t.Fatalf("%s differs from %s on %s:\n%s", name, path, s.name, firstDifference(want, got))
					}
				})
			}
		})
	}
}

// document is a golden file: what the ERP receives, the stored event and
// every normalised row the callback wrote.
type document struct {
	ERP    *erpRequest `json:"erp,omitempty"`
	Event  event       `json:"event"`
	Record *record     `json:"record,omitempty"`
	// Parts are, for a message split into one event per record it changes
	// (an AutoX3 maintenance message), each part's event, record and ERP
	// request; the message itself then has none.
	Parts []part                      `json:"parts,omitempty"`
	Rows  map[string][]map[string]any `json:"rows"`
}

// part is one part of a split message.
type part struct {
	ERP    erpRequest `json:"erp"`
	Event  event      `json:"event"`
	Record record     `json:"record"`
}

// erpRequest is the request SyncRecord sends for the record's newest state.
type erpRequest struct {
	IdempotencyKey string          `json:"idempotency_key"`
	Body           json.RawMessage `json:"body"`
}

// event is the stored callback (inbound_events) without its body.
type event struct {
	Vendor     string   `json:"vendor"`
	EventKey   string   `json:"event_key"`
	EventType  string   `json:"event_type"`
	Kind       string   `json:"kind"`
	ExternalID string   `json:"external_id"`
	Version    int64    `json:"version"`
	OccurredAt string   `json:"occurred_at"`
	Applied    bool     `json:"applied"`
	Revision   int64    `json:"revision"`
	SyncStatus string   `json:"sync_status"`
	Warnings   []string `json:"warnings"`
}

// record is the record's stored newest state (record_states) without its data.
type record struct {
	Version        int64  `json:"version"`
	Revision       int64  `json:"revision"`
	OccurredAt     string `json:"occurred_at"`
	OccurredOffset int    `json:"occurred_offset"`
	SyncStatus     string `json:"sync_status"`
}

// run receives and persists body on db as the edge and the workflow do, and
// returns the golden document of what was stored and what the ERP receives.
func run(t *testing.T, db *gorm.DB, vendor string, body []byte, decode store.Decoder) []byte {
	t.Helper()
	ctx := t.Context()
	ev, err := decode(body)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	st := store.New(db)
	in := store.Inbound{Vendor: vendor, EventKey: ev.EventKey, EventType: ev.EventType, Body: body,
		WorkflowID: flow.EventWorkflowID(vendor, ev.EventKey), ReceivedAt: receivedAt}
	if _, err := st.Receive(ctx, in); err != nil {
		t.Fatalf("receive: %v", err)
	}
	persisted, _, err := st.Persist(ctx, in, decode)
	if err != nil {
		t.Fatalf("persist: %v", err)
	}
	var doc document
	doc.Event = storedEvent(t, db, vendor, ev.EventKey)
	if persisted.PartCount == 0 {
		erp, rec := sent(t, st, vendor, doc.Event)
		doc.ERP, doc.Record = &erp, &rec
	} else {
		// The message's workflow persists its parts in batches; here, one.
		if _, err := st.PersistParts(ctx, in, ev, 0, persisted.PartCount); err != nil {
			t.Fatalf("persist parts: %v", err)
		}
		for _, key := range ev.PartKeys() {
			p := part{Event: storedEvent(t, db, vendor, key)}
			p.ERP, p.Record = sent(t, st, vendor, p.Event)
			doc.Parts = append(doc.Parts, p)
		}
	}

	doc.Rows = map[string][]map[string]any{}
	for _, m := range models.All() {
		switch m.(type) {
		case *models.InboundEvent, *models.RecordState, *models.SyncAttempt:
			continue
		}
		table, rows := dumpTable(t, db, m)
		if len(rows) > 0 {
			doc.Rows[table] = rows
		}
	}

	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// storedEvent is the stored callback of one event key.
func storedEvent(t *testing.T, db *gorm.DB, vendor, eventKey string) event {
	t.Helper()
	var ie models.InboundEvent
	if err := db.Where("vendor = ? AND event_key = ?", vendor, eventKey).Take(&ie).Error; err != nil {
		t.Fatal(err)
	}
	e := event{Vendor: ie.Vendor, EventKey: ie.EventKey, EventType: ie.EventType, Kind: ie.Kind, ExternalID: ie.ExternalID,
		Version: ie.Version, OccurredAt: stamp(ie.OccurredAt), Applied: ie.Applied, Revision: ie.Revision, SyncStatus: string(ie.SyncStatus),
		Warnings: []string{}}
	if ie.Warnings != "" {
		if err := json.Unmarshal([]byte(ie.Warnings), &e.Warnings); err != nil {
			t.Fatalf("stored warnings %q: %v", ie.Warnings, err)
		}
	}
	return e
}

// sent is the stored newest state of an event's record and the request
// SyncRecord sends the ERP for it.
func sent(t *testing.T, st *store.Store, vendor string, e event) (erpRequest, record) {
	t.Helper()
	rs, err := st.Record(t.Context(), vendor, e.Kind, e.ExternalID)
	if err != nil {
		t.Fatal(err)
	}
	rec := record{Version: rs.Version, Revision: rs.Revision, OccurredAt: stamp(rs.OccurredAt),
		OccurredOffset: rs.OccurredOffset, SyncStatus: string(rs.SyncStatus)}
	r := activities.ERPRecord(rs)
	request, err := r.Encode()
	if err != nil {
		t.Fatalf("encode the ERP record: %v", err)
	}
	return erpRequest{IdempotencyKey: erp.IdempotencyKey(r), Body: request}, rec
}

// dumpTable returns every row of model's table, ordered by primary key, as
// column → value, so the file shows what the database holds: decimals as
// their exact text, dates as YYYY-MM-DD, times in UTC.
func dumpTable(t *testing.T, db *gorm.DB, model any) (string, []map[string]any) {
	t.Helper()
	stmt := &gorm.Statement{DB: db}
	if err := stmt.Parse(model); err != nil {
		t.Fatal(err)
	}
	rows := reflect.New(reflect.SliceOf(reflect.TypeOf(model).Elem()))
	if err := db.Model(model).Order(strings.Join(stmt.Schema.PrimaryFieldDBNames, ", ")).Find(rows.Interface()).Error; err != nil {
		t.Fatalf("read %s: %v", stmt.Schema.Table, err)
	}
	var out []map[string]any
	for i := 0; i < rows.Elem().Len(); i++ {
		row := rows.Elem().Index(i)
		m := map[string]any{}
		for _, f := range stmt.Schema.Fields {
			if f.DBName == "" {
				continue
			}
			v, _ := f.ValueOf(t.Context(), row)
			m[f.DBName] = columnValue(v)
		}
		out = append(out, m)
	}
	return stmt.Schema.Table, out
}

// columnValue makes one column's value independent of the store's driver.
func columnValue(v any) any {
	switch x := v.(type) {
	case time.Time:
		return stamp(x)
	case *time.Time:
		if x == nil {
			return nil
		}
		return stamp(*x)
	default:
		return v
	}
}

// stamp is a stored time as RFC 3339 in UTC.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// firstDifference shows where two golden documents first differ.
func firstDifference(want, got []byte) string {
	w, g := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d\n  want: %s\n  got:  %s", i+1, a, b)
		}
	}
	return "(no line differs)"
}
