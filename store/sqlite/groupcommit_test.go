package sqlite

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"
)

// item is what the tests' group commit stores: a row of the items table.
type item struct{ key, body string }

// openItems opens a SQLite file with an items table and a group commit
// storing into it; each batch's size is sent on batches when it is given.
func openItems(t *testing.T, batches chan<- int) (*gorm.DB, *GroupCommit[item]) {
	t.Helper()
	db := openTest(t)
	if err := db.Exec("CREATE TABLE items (key TEXT PRIMARY KEY, body TEXT NOT NULL)").Error; err != nil {
		t.Fatal(err)
	}
	return db, NewGroupCommit(func(ctx context.Context, batch []item) ([]bool, error) {
		if batches != nil {
			batches <- len(batch)
		}
		return insertItems(ctx, db, batch)
	})
}

// insertItems inserts a batch in one urgent transaction; an item stored
// before, or earlier in the batch, is a duplicate and changes nothing.
func insertItems(ctx context.Context, db *gorm.DB, batch []item) ([]bool, error) {
	dups := make([]bool, len(batch))
	err := db.WithContext(Urgent(ctx)).Transaction(func(tx *gorm.DB) error {
		for i, it := range batch {
			res := tx.Exec("INSERT INTO items (key, body) VALUES (?, ?) ON CONFLICT DO NOTHING", it.key, it.body)
			if res.Error != nil {
				return fmt.Errorf("insert %s: %w", it.key, res.Error)
			}
			dups[i] = res.RowsAffected == 0
		}
		return nil
	})
	return dups, err
}

func newItem(key string) item { return item{key: key, body: `{"k":"` + key + `"}`} }

// hold waits for the writer to stop, then keeps it from starting, as if it
// were busy with an earlier batch; the items that arrive meanwhile queue,
// and resume writes them as one batch once n are queued.
func hold[T any](t *testing.T, g *GroupCommit[T]) (resume func(t *testing.T, n int)) {
	t.Helper()
	waitFor(t, func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.writing {
			return false
		}
		g.writing = true
		return true
	})
	return func(t *testing.T, n int) {
		t.Helper()
		waitFor(t, func() bool { return g.Waiting() == n })
		go g.run()
	}
}

func storedKeys(t *testing.T, db *gorm.DB) []string {
	t.Helper()
	var keys []string
	if err := db.Raw("SELECT key FROM items ORDER BY key").Scan(&keys).Error; err != nil {
		t.Fatal(err)
	}
	return keys
}

// Items stored at once share a write, and each caller learns whether its
// own was a duplicate: of one stored before, or of another in the same
// batch.
func TestGroupCommitDuplicates(t *testing.T) {
	batches := make(chan int, 10)
	db, g := openItems(t, batches)
	if dup, err := g.Do(t.Context(), newItem("old")); dup || err != nil {
		t.Fatalf("first delivery: dup %v, %v", dup, err)
	}
	if n := <-batches; n != 1 {
		t.Fatalf("first batch of %d, want 1", n)
	}
	keys := []string{"old", "a", "b", "a", "c", "a", "old", "b"}
	resume := hold(t, g)
	type answer struct {
		key string
		dup bool
		err error
	}
	answers := make(chan answer, len(keys))
	for _, k := range keys {
		go func() {
			dup, err := g.Do(t.Context(), newItem(k))
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
	if n := <-batches; n != len(keys) {
		t.Fatalf("a batch of %d, want the %d queued items in one", n, len(keys))
	}
	want := map[string]int{"a": 1, "b": 1, "c": 1}
	if fmt.Sprint(fresh) != fmt.Sprint(want) {
		t.Fatalf("not duplicates: %v, want %v", fresh, want)
	}
	if got := strings.Join(storedKeys(t, db), ","); got != "a,b,c,old" {
		t.Fatalf("stored %s, want a,b,c,old", got)
	}
	var body string
	if err := db.Raw("SELECT body FROM items WHERE key = 'c'").Scan(&body).Error; err != nil || body != `{"k":"c"}` {
		t.Fatalf("stored body %q, %v", body, err)
	}
}

// Many callers at once, with redeliveries: exactly one of each item's
// deliveries is not a duplicate, and every item is stored.
func TestGroupCommitConcurrent(t *testing.T) {
	db, g := openItems(t, nil)
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
				dup, err := g.Do(t.Context(), newItem(k))
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
		t.Fatalf("%d items stored as new, want %d", len(fresh), keys)
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

// A write that fails fails its own caller only; the rest of its batch is
// written again item by item, stored and answered.
func TestGroupCommitFailureIsOwn(t *testing.T) {
	batches := make(chan int, 10)
	db, g := openItems(t, batches)
	if err := db.Exec(`CREATE TRIGGER refuse_bad BEFORE INSERT ON items WHEN NEW.key = 'bad'
		BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END`).Error; err != nil {
		t.Fatal(err)
	}
	keys := []string{"a", "bad", "b", "c"}
	resume := hold(t, g)
	errs := make(map[string]error)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dup, err := g.Do(t.Context(), newItem(k))
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
	close(batches)
	var sizes []int
	for n := range batches {
		sizes = append(sizes, n)
	}
	if fmt.Sprint(sizes) != "[4 1 1 1 1]" {
		t.Fatalf("writes of %v items, want the batch of 4, then each alone", sizes)
	}
}

// A caller whose context ends while its item waits stops waiting; an item
// whose batch was not taken yet is not stored, so its redelivery is new.
// The writer carries on for the others, and waits for the write gate like
// any writer.
func TestGroupCommitCancel(t *testing.T) {
	db, g := openItems(t, nil)
	resume := hold(t, g)
	other := make(chan error, 1)
	go func() { _, err := g.Do(t.Context(), newItem("other")); other <- err }()
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := g.Do(ctx, newItem("late")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("late: %v, want context.DeadlineExceeded", err)
	}
	// Another transaction holds the gate: the batch waits for it.
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
	if dup, err := g.Do(t.Context(), newItem("late")); dup || err != nil {
		t.Fatalf("redelivery of late: dup %v, %v", dup, err)
	}
	if dup, err := g.Do(t.Context(), newItem("other")); !dup || err != nil {
		t.Fatalf("redelivery of other: dup %v, %v", dup, err)
	}
	if _, err := g.Do(ctx, newItem("after")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ended context: %v", err)
	}
	// The writer stops once nothing is queued.
	waitFor(t, func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return !g.writing && len(g.queue) == 0
	})
}

// The write runs under its own deadline, GroupCommitTimeout, not the
// caller's context; a write that answers the wrong number of duplicate
// flags fails its callers instead of answering them wrongly.
func TestGroupCommitWriteContext(t *testing.T) {
	type seen struct {
		left time.Duration
		ok   bool
	}
	got := make(chan seen, 1)
	g := NewGroupCommit(func(ctx context.Context, batch []int) ([]bool, error) {
		deadline, ok := ctx.Deadline()
		got <- seen{time.Until(deadline), ok}
		return []bool{false, false}, nil
	})
	caller, cancel := context.WithTimeout(t.Context(), time.Hour)
	defer cancel()
	_, err := g.Do(caller, 1)
	if err == nil || !strings.Contains(err.Error(), "answered 2 duplicate flags for a batch of 1") {
		t.Fatalf("wrong answer: %v, want an error saying so", err)
	}
	s := <-got
	if !s.ok || s.left > GroupCommitTimeout || s.left < GroupCommitTimeout-5*time.Second {
		t.Fatalf("write deadline in %s (set %v), want about %s", s.left, s.ok, GroupCommitTimeout)
	}
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
