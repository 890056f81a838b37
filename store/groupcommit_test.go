package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/erpbridge/erpbridge/models"
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

// hold keeps the writer from starting, as if it were busy with an earlier
// batch; the callbacks that arrive meanwhile queue, and resume writes them
// as one batch once n are queued.
func hold(st *Store) (resume func(t *testing.T, n int)) {
	st.intake.mu.Lock()
	st.intake.writing = true
	st.intake.mu.Unlock()
	return func(t *testing.T, n int) {
		t.Helper()
		waitFor(t, func() bool {
			st.intake.mu.Lock()
			defer st.intake.mu.Unlock()
			return len(st.intake.queue) == n
		})
		go st.intake.run()
	}
}

func storedKeys(t *testing.T, db *gorm.DB) []string {
	t.Helper()
	var keys []string
	if err := db.Model(&models.InboundEvent{}).Order("event_key").Pluck("event_key", &keys).Error; err != nil {
		t.Fatal(err)
	}
	return keys
}

// Callbacks stored at once share a transaction, and each caller learns
// whether its own was a duplicate: of one stored before, or of another in
// the same batch.
func TestGroupCommitDuplicates(t *testing.T) {
	st, db := openSQLiteStore(t)
	if dup, err := st.Receive(t.Context(), inbound("old")); dup || err != nil {
		t.Fatalf("first delivery: dup %v, %v", dup, err)
	}
	keys := []string{"old", "a", "b", "a", "c", "a", "old", "b"}
	resume := hold(st)
	type answer struct {
		key string
		dup bool
		err error
	}
	answers := make(chan answer, len(keys))
	for _, k := range keys {
		go func() {
			dup, err := st.Receive(t.Context(), inbound(k))
			answers <- answer{k, dup, err}
		}()
	}
	resume(t, len(keys))
	fresh := map[string]int{}
	for range keys {
		a := <-answers
		if a.err != nil {
			t.Fatalf("%s: %v", a.key, a.err)
		}
		if !a.dup {
			fresh[a.key]++
		}
	}
	want := map[string]int{"a": 1, "b": 1, "c": 1}
	if fmt.Sprint(fresh) != fmt.Sprint(want) {
		t.Fatalf("not duplicates: %v, want %v", fresh, want)
	}
	if got := strings.Join(storedKeys(t, db), ","); got != "a,b,c,old" {
		t.Fatalf("stored %s, want a,b,c,old", got)
	}
	var row models.InboundEvent
	if err := db.Where("event_key = ?", "c").Take(&row).Error; err != nil || string(row.Body) != `{"k":"c"}` || row.SyncStatus != "received" {
		t.Fatalf("stored row: %+v, %v", row, err)
	}
}

// Many callers at once, with redeliveries: exactly one of each callback's
// deliveries is not a duplicate, and every callback is stored.
func TestGroupCommitConcurrent(t *testing.T) {
	st, db := openSQLiteStore(t)
	const keys, deliveries = 30, 4
	var mu sync.Mutex
	fresh := map[string]int{}
	var wg sync.WaitGroup
	for d := range deliveries {
		for i := range keys {
			wg.Add(1)
			go func() {
				defer wg.Done()
				k := fmt.Sprintf("k-%02d", (i+d*7)%keys)
				dup, err := st.Receive(t.Context(), inbound(k))
				if err != nil {
					t.Error(err)
					return
				}
				if !dup {
					mu.Lock()
					fresh[k]++
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	if len(fresh) != keys {
		t.Fatalf("%d callbacks stored as new, want %d", len(fresh), keys)
	}
	for k, n := range fresh {
		if n != 1 {
			t.Errorf("%s stored as new %d times", k, n)
		}
	}
	if n := len(storedKeys(t, db)); n != keys {
		t.Fatalf("%d rows, want %d", n, keys)
	}
}

// An insert that fails fails its own caller only; the rest of its batch is
// stored and answered.
func TestGroupCommitFailureIsOwn(t *testing.T) {
	st, db := openSQLiteStore(t)
	if err := db.Exec(`CREATE TRIGGER refuse_bad BEFORE INSERT ON inbound_events WHEN NEW.event_key = 'bad'
		BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END`).Error; err != nil {
		t.Fatal(err)
	}
	keys := []string{"a", "bad", "b", "c"}
	resume := hold(st)
	errs := make(map[string]error)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dup, err := st.Receive(t.Context(), inbound(k))
			if dup {
				err = errors.New("reported a duplicate")
			}
			mu.Lock()
			errs[k] = err
			mu.Unlock()
		}()
	}
	resume(t, len(keys))
	wg.Wait()
	for _, k := range []string{"a", "b", "c"} {
		if errs[k] != nil {
			t.Errorf("%s: %v", k, errs[k])
		}
	}
	if err := errs["bad"]; err == nil || !strings.Contains(err.Error(), "refused by test trigger") {
		t.Errorf("bad: %v, want the trigger's refusal", err)
	}
	if got := strings.Join(storedKeys(t, db), ","); got != "a,b,c" {
		t.Fatalf("stored %s, want a,b,c", got)
	}
}

// A caller whose context ends while its callback waits stops waiting; a
// callback whose batch was not taken yet is not stored, so its redelivery
// is new. The writer carries on for the others, and waits for the write
// gate like any writer.
func TestGroupCommitCancel(t *testing.T) {
	st, db := openSQLiteStore(t)
	resume := hold(st)
	other := make(chan error, 1)
	go func() { _, err := st.Receive(t.Context(), inbound("other")); other <- err }()
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := st.Receive(ctx, inbound("late")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("late: %v, want context.DeadlineExceeded", err)
	}
	// A worker's transaction holds the gate: the batch waits for it.
	tx := db.Begin()
	if tx.Error != nil {
		t.Fatal(tx.Error)
	}
	resume(t, 1)
	select {
	case err := <-other:
		t.Fatalf("answered (%v) while another transaction held the write gate", err)
	case <-time.After(100 * time.Millisecond):
	}
	tx.Rollback()
	if err := <-other; err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(storedKeys(t, db), ","); got != "other" {
		t.Fatalf("stored %s, want other", got)
	}
	if dup, err := st.Receive(t.Context(), inbound("late")); dup || err != nil {
		t.Fatalf("redelivery of late: dup %v, %v", dup, err)
	}
	if dup, err := st.Receive(t.Context(), inbound("other")); !dup || err != nil {
		t.Fatalf("redelivery of other: dup %v, %v", dup, err)
	}
	if _, err := st.Receive(ctx, inbound("after")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ended context: %v", err)
	}
	// The writer stops once nothing is queued.
	waitFor(t, func() bool {
		st.intake.mu.Lock()
		defer st.intake.mu.Unlock()
		return !st.intake.writing && len(st.intake.queue) == 0
	})
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

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
			body := make([]byte, 4000)
			k := 0
			for b.Loop() {
				batch := make([]*intakeCall, n)
				for i := range batch {
					k++
					in := inbound(fmt.Sprint(k))
					in.Body = body
					batch[i] = &intakeCall{in: in}
				}
				if _, err := insertIntake(b.Context(), db, batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/callback")
		})
	}
}
