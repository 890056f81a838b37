package store

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/store/sqlite"
)

func openSQLiteStore(t *testing.T) (*Store, *gorm.DB) {
	t.Helper()
	db, err := Open("", filepath.Join(t.TempDir(), "erpbridge.db"))
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, _ := db.DB()
	t.Cleanup(func() { sqlDB.Close() })
	if err := Migrate(t.Context(), db); err != nil {
		t.Fatal(err)
	}
	st := New(db)
	if st.intake == nil {
		t.Fatal("SQLite store without group commit")
	}
	return st, db
}

func inbound(key string) Inbound {
	return Inbound{Vendor: "v", EventKey: key, EventType: "t", Body: []byte(`{"k":"` + key + `"}`),
		WorkflowID: "v:" + key, ReceivedAt: time.Now()}
}

func storedKeys(t *testing.T, db *gorm.DB) []string {
	t.Helper()
	var keys []string
	if err := db.Model(&models.InboundEvent{}).Order("event_key").Pluck("event_key", &keys).Error; err != nil {
		t.Fatal(err)
	}
	return keys
}

// answer is what Receive said to one caller.
type answer struct {
	dup bool
	err error
}

// receiveBatch receives keys on st, all queued behind a batch that holds
// the writer (of the callback holdKey), so they are written as one batch.
// st's group commit is, for the call, one over the same insert that also
// reports the keys of every batch it writes. It returns each key's
// answers, in arrival order, and the batches written after the holding one.
func receiveBatch(t *testing.T, st *Store, holdKey string, keys []string) (map[string][]answer, [][]string) {
	t.Helper()
	release := make(chan struct{})
	batches := make(chan []string, 2*len(keys)+2)
	own := st.intake
	t.Cleanup(func() { st.intake = own })
	st.intake = sqlite.NewGroupCommit(func(ctx context.Context, batch []Inbound) ([]bool, error) {
		var ks []string
		for _, in := range batch {
			ks = append(ks, in.EventKey)
		}
		batches <- ks
		if ks[0] == holdKey {
			<-release
		}
		return st.insertInbound(ctx, batch)
	})
	held := make(chan error, 1)
	go func() { _, err := st.Receive(t.Context(), inbound(holdKey)); held <- err }()
	if ks := <-batches; !slices.Equal(ks, []string{holdKey}) {
		t.Fatalf("holding batch %v, want [%s]", ks, holdKey)
	}
	type reply struct {
		key string
		answer
	}
	replies := make(chan reply, len(keys))
	for _, k := range keys {
		go func() {
			dup, err := st.Receive(t.Context(), inbound(k))
			replies <- reply{k, answer{dup, err}}
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for st.intake.Waiting() != len(keys) {
		if time.Now().After(deadline) {
			t.Fatalf("%d callbacks queued, want %d", st.intake.Waiting(), len(keys))
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	if err := <-held; err != nil {
		t.Fatalf("%s: %v", holdKey, err)
	}
	answers := map[string][]answer{}
	for range keys {
		r := <-replies
		answers[r.key] = append(answers[r.key], r.answer)
	}
	var written [][]string
	for len(batches) > 0 {
		written = append(written, <-batches)
	}
	return answers, written
}

// Receive on SQLite goes through the group commit: a callback is stored
// once, each caller learns whether its own was a duplicate, of one stored
// in an earlier batch or of another in the same batch, and a callback
// whose insert fails fails its own caller only.
func TestReceiveSQLite(t *testing.T) {
	t.Parallel()
	st, db := openSQLiteStore(t)
	if dup, err := st.Receive(t.Context(), inbound("old")); dup || err != nil {
		t.Fatalf("first delivery: dup %v, %v", dup, err)
	}
	if dup, err := st.Receive(t.Context(), inbound("old")); !dup || err != nil {
		t.Fatalf("redelivery: dup %v, %v", dup, err)
	}

	keys := []string{"old", "a", "b", "a", "c", "a", "old", "b"}
	answers, written := receiveBatch(t, st, "hold-1", keys)
	if len(written) != 1 || !sameKeys(written[0], keys) {
		t.Fatalf("batches written %v, want the %d callbacks in one", written, len(keys))
	}
	fresh := map[string]int{}
	for k, as := range answers {
		for _, a := range as {
			if a.err != nil {
				t.Fatalf("%s: %v", k, a.err)
			}
			if !a.dup {
				fresh[k]++
			}
		}
	}
	if want := map[string]int{"a": 1, "b": 1, "c": 1}; fmt.Sprint(fresh) != fmt.Sprint(want) {
		t.Fatalf("not duplicates: %v, want %v", fresh, want)
	}
	if got := strings.Join(storedKeys(t, db), ","); got != "a,b,c,hold-1,old" {
		t.Fatalf("stored %s, want a,b,c,hold-1,old", got)
	}
	var row models.InboundEvent
	if err := db.Where("event_key = ?", "c").Take(&row).Error; err != nil || string(row.Body) != `{"k":"c"}` ||
		row.SyncStatus != models.EventReceived || row.WorkflowID != "v:c" || !row.OccurredAt.Equal(row.ReceivedAt) {
		t.Fatalf("stored row: %+v, %v", row, err)
	}

	if err := db.Exec(`CREATE TRIGGER refuse_bad BEFORE INSERT ON inbound_events WHEN NEW.event_key = 'bad'
		BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END`).Error; err != nil {
		t.Fatal(err)
	}
	keys = []string{"d", "bad", "a", "e"}
	answers, written = receiveBatch(t, st, "hold-2", keys)
	if len(written) != 1+len(keys) || !sameKeys(written[0], keys) {
		t.Fatalf("batches written %v, want the %d callbacks in one, then each alone", written, len(keys))
	}
	for k, want := range map[string]bool{"d": false, "a": true, "e": false} {
		if a := answers[k][0]; a.err != nil || a.dup != want {
			t.Errorf("%s: dup %v, %v; want dup %v", k, a.dup, a.err, want)
		}
	}
	if a := answers["bad"][0]; a.dup || a.err == nil || !strings.Contains(a.err.Error(), "refused by test trigger") {
		t.Errorf("bad: dup %v, %v; want the trigger's refusal", a.dup, a.err)
	}
	if got := strings.Join(storedKeys(t, db), ","); got != "a,b,c,d,e,hold-1,hold-2,old" {
		t.Fatalf("stored %s, want a,b,c,d,e,hold-1,hold-2,old", got)
	}
}

// sameKeys reports whether a and b hold the same keys, in any order.
func sameKeys(a, b []string) bool { return slices.Equal(sortedCopy(a), sortedCopy(b)) }

func sortedCopy(s []string) []string { c := slices.Clone(s); slices.Sort(c); return c }

// The intake's insert cost per callback, alone and in a batch of 20, with a
// 4 KB body (an AutoX3 callback's size).
func BenchmarkIntakeInsert(b *testing.B) {
	for _, n := range []int{1, 20} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			db, err := Open("", filepath.Join(b.TempDir(), "erpbridge.db"))
			if err != nil {
				b.Fatal(err)
			}
			if err := Migrate(b.Context(), db); err != nil {
				b.Fatal(err)
			}
			st := New(db)
			body := make([]byte, 4000)
			k := 0
			for b.Loop() {
				batch := make([]Inbound, n)
				for i := range batch {
					k++
					batch[i] = inbound(fmt.Sprint(k))
					batch[i].Body = body
				}
				if _, err := st.insertInbound(b.Context(), batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/callback")
		})
	}
}
