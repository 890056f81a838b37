package sqlite

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"
)

// waitQueued waits until the gate has n waiters.
func waitQueued(t *testing.T, g *writeGate, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		g.mu.Lock()
		q := len(g.urgent) + len(g.normal)
		g.mu.Unlock()
		if q == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d waiters on the gate, want %d", q, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// Urgent waiters take the gate before the others, each class in arrival order.
func TestWriteGateOrder(t *testing.T) {
	g := &writeGate{}
	if err := g.lock(t.Context()); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var order []string
	var wg sync.WaitGroup
	for i, name := range []string{"n1", "u1", "n2", "u2"} {
		ctx := t.Context()
		if name[0] == 'u' {
			ctx = Urgent(ctx)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := g.lock(ctx); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
			g.unlock()
		}()
		waitQueued(t, g, i+1)
	}
	g.unlock()
	wg.Wait()
	want := []string{"u1", "u2", "n1", "n2"}
	if len(order) != len(want) {
		t.Fatalf("order %v, want %v", order, want)
	}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("order %v, want %v", order, want)
		}
	}
	if g.held {
		t.Fatal("gate still held after every waiter left")
	}
}

// A waiter whose context ends leaves the queue; the gate still passes on.
func TestWriteGateCancel(t *testing.T) {
	g := &writeGate{}
	if err := g.lock(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(Urgent(t.Context()))
	gave := make(chan error, 1)
	go func() { gave <- g.lock(ctx) }()
	waitQueued(t, g, 1)
	got := make(chan error, 1)
	go func() { got <- g.lock(t.Context()) }()
	waitQueued(t, g, 2)
	cancel()
	if err := <-gave; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled waiter: %v, want context.Canceled", err)
	}
	waitQueued(t, g, 1)
	g.unlock()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the gate did not pass to the remaining waiter")
	}
	g.unlock()
	if g.held {
		t.Fatal("gate still held")
	}
}

// Through Open's pool, a transaction holds the gate: another write waits
// for it, urgent or not, while a read outside a transaction does not.
func TestGatedPool(t *testing.T) {
	db := openTest(t)
	if err := db.Exec("CREATE TABLE kv (k TEXT PRIMARY KEY)").Error; err != nil {
		t.Fatal(err)
	}
	tx := db.Begin()
	if tx.Error != nil {
		t.Fatal(tx.Error)
	}
	if err := tx.Exec("INSERT INTO kv (k) VALUES ('held')").Error; err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := db.Raw("SELECT count(*) FROM kv").Scan(&n).Error; err != nil || n != 0 {
		t.Fatalf("read beside the writer: %d rows (%v), want 0", n, err)
	}
	wrote := make(chan error, 1)
	go func() {
		wrote <- db.WithContext(Urgent(t.Context())).Transaction(func(tx *gorm.DB) error {
			return tx.Exec("INSERT INTO kv (k) VALUES ('next')").Error
		})
	}()
	gate := db.ConnPool.(*gatedPool).gate
	waitQueued(t, gate, 1)
	if err := tx.Commit().Error; err != nil {
		t.Fatal(err)
	}
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	if err := db.Raw("SELECT count(*) FROM kv").Scan(&n).Error; err != nil || n != 2 {
		t.Fatalf("%d rows (%v), want 2", n, err)
	}
	gate.mu.Lock()
	held := gate.held
	gate.mu.Unlock()
	if held {
		t.Fatal("gate still held after both writers ended")
	}
}
