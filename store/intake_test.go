package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/store"
)

func receive(t *testing.T, st *store.Store, n int) {
	t.Helper()
	for i := range n {
		key := fmt.Sprintf("k-%d", i)
		dup, err := st.Receive(t.Context(), store.Inbound{Vendor: "v", EventKey: key, EventType: "t", Body: []byte(`{}`),
			WorkflowID: "v:" + key, ReceivedAt: time.Now()})
		if err != nil || dup {
			t.Fatalf("receive %s: dup %v, %v", key, dup, err)
		}
	}
}

// Two relays at once take different callbacks, and together every one.
func TestStartPendingSharesTheBacklog(t *testing.T) {
	t.Parallel()
	testenv.EachStore(t, func(t *testing.T, db *gorm.DB) {
		st := store.New(db)
		receive(t, st, 40)
		var mu sync.Mutex
		seen := map[string]int{}
		var wg sync.WaitGroup
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					n, err := st.StartPending(t.Context(), 7, time.Minute, func(b []store.Pending) []bool {
						ok := make([]bool, len(b))
						mu.Lock()
						for i, p := range b {
							seen[p.EventKey]++
							ok[i] = true
						}
						mu.Unlock()
						time.Sleep(5 * time.Millisecond) // a start takes a while; the other relay runs meanwhile
						return ok
					})
					if err != nil {
						t.Error(err)
						return
					}
					if n == 0 {
						return
					}
				}
			}()
		}
		wg.Wait()
		if len(seen) != 40 {
			t.Fatalf("%d callbacks started, want 40", len(seen))
		}
		for k, n := range seen {
			if n != 1 {
				t.Errorf("%s handed over %d times", k, n)
			}
		}
		if n, _, _ := st.Backlog(t.Context()); n != 0 {
			t.Fatalf("backlog %d, want 0", n)
		}
	})
}

// A failed start releases the claim at once; a relay that dies holding a
// claim leaves its batch to another when the lease lapses.
func TestStartPendingLeases(t *testing.T) {
	t.Parallel()
	testenv.EachStore(t, func(t *testing.T, db *gorm.DB) {
		st := store.New(db)
		receive(t, st, 3)
		none := func(b []store.Pending) []bool { return make([]bool, len(b)) }
		if n, err := st.StartPending(t.Context(), 10, time.Hour, none); err != nil || n != 3 {
			t.Fatalf("first try: %d, %v", n, err)
		}
		// Failed starts were released: the next try takes them again.
		if n, err := st.StartPending(t.Context(), 10, time.Hour, none); err != nil || n != 3 {
			t.Fatalf("after failed starts: %d, %v", n, err)
		}
		// A relay that dies inside start keeps its claim until the lease lapses.
		ctx, cancel := context.WithCancel(t.Context())
		func() {
			defer func() { _ = recover() }()
			_, _ = st.StartPending(ctx, 10, 300*time.Millisecond, func([]store.Pending) []bool { cancel(); panic("relay died") })
		}()
		if n, _ := st.StartPending(t.Context(), 10, time.Hour, none); n != 0 {
			t.Fatalf("%d callbacks taken while another relay's lease runs, want 0", n)
		}
		time.Sleep(400 * time.Millisecond) // the lease itself is what is waited for
		all := func(b []store.Pending) []bool {
			ok := make([]bool, len(b))
			for i := range ok {
				ok[i] = true
			}
			return ok
		}
		if n, err := st.StartPending(t.Context(), 10, time.Hour, all); err != nil || n != 3 {
			t.Fatalf("after the lease lapsed: %d, %v", n, err)
		}
		if n, _, _ := st.Backlog(t.Context()); n != 0 {
			t.Fatalf("backlog %d, want 0", n)
		}
		if _, ok, _ := st.Callback(t.Context(), "v", "k-1"); !ok {
			t.Fatal("stored callback not found")
		}
		if v, k, ok := flow.ParseClaimCheck(flow.ClaimCheckFor("v", "k/1")); !ok || v != "v" || k != "k/1" {
			t.Fatalf("claim check round trip: %q %q %v", v, k, ok)
		}
	})
}

// When the store fails around a claim (the claim's write, or the marking
// after the starts), StartPending names the callbacks it left claimed, and
// Settle, once the store answers, marks the started ones and frees the rest
// at once instead of leaving them to the lease.
func TestStartPendingNamesWhatItLeftClaimed(t *testing.T) {
	t.Parallel()
	testenv.EachStore(t, func(t *testing.T, db *gorm.DB) {
		var down atomic.Bool
		fail := func(tx *gorm.DB) {
			if down.Load() {
				_ = tx.AddError(errors.New("store unreachable"))
			}
		}
		if err := db.Callback().Update().Before("gorm:update").Register("test:down", fail); err != nil {
			t.Fatal(err)
		}
		st := store.New(db)
		receive(t, st, 4)

		// The claim's own write fails: all four are named, and nothing was handed over.
		down.Store(true)
		handed := false
		_, err := st.StartPending(t.Context(), 10, time.Hour, func(b []store.Pending) []bool { handed = true; return nil })
		var u *store.UnsettledError
		if !errors.As(err, &u) || len(u.Released) != 4 || len(u.Started) != 0 || handed {
			t.Fatalf("claim failure: err %v, handed %v", err, handed)
		}
		down.Store(false)
		if err := st.Settle(t.Context(), u.Unsettled); err != nil {
			t.Fatal(err)
		}

		// The marking after the starts fails: two started, two not; the lease is an hour.
		n, err := st.StartPending(t.Context(), 10, time.Hour, func(b []store.Pending) []bool {
			down.Store(true)
			return []bool{true, false, true, false}
		})
		if n != 4 || !errors.As(err, &u) || len(u.Started) != 2 || len(u.Released) != 2 {
			t.Fatalf("marking failure: %d, %v", n, err)
		}
		down.Store(false)
		if n, _ := st.StartPending(t.Context(), 10, time.Hour, func(b []store.Pending) []bool { return nil }); n != 0 {
			t.Fatalf("%d callbacks taken while the unsettled claim holds, want 0", n)
		}
		if err := st.Settle(t.Context(), u.Unsettled); err != nil {
			t.Fatal(err)
		}
		if n, _, _ := st.Backlog(t.Context()); n != 2 {
			t.Fatalf("backlog %d after settling, want the 2 not started", n)
		}
		var got []string
		n, err = st.StartPending(t.Context(), 10, time.Hour, func(b []store.Pending) []bool {
			for _, p := range b {
				got = append(got, p.EventKey)
			}
			return []bool{true, true}
		})
		if err != nil || n != 2 || fmt.Sprint(got) != "[k-1 k-3]" {
			t.Fatalf("after settling: %d %v, %v; want k-1 and k-3 taken at once", n, got, err)
		}
	})
}

// Backlog counts the callbacks no workflow was started for yet, and dates
// the oldest of them by its arrival; an empty backlog has no date.
func TestBacklogCountsAndDatesTheWaiting(t *testing.T) {
	t.Parallel()
	testenv.EachStore(t, func(t *testing.T, db *gorm.DB) {
		st := store.New(db)
		if n, oldest, err := st.Backlog(t.Context()); err != nil || n != 0 || !oldest.IsZero() {
			t.Fatalf("empty backlog: %d, %v, %v", n, oldest, err)
		}
		first := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
		for i, key := range []string{"b-1", "b-2", "b-3"} {
			in := store.Inbound{Vendor: "v", EventKey: key, EventType: "t", Body: []byte(`{}`),
				WorkflowID: "v:" + key, ReceivedAt: first.Add(time.Duration(i) * time.Minute)}
			if _, err := st.Receive(t.Context(), in); err != nil {
				t.Fatal(err)
			}
		}
		if n, oldest, err := st.Backlog(t.Context()); err != nil || n != 3 || !oldest.Equal(first) {
			t.Fatalf("backlog %d, oldest %v, %v; want 3 from %v", n, oldest, err, first)
		}
		if _, err := st.StartPending(t.Context(), 1, time.Minute, func(b []store.Pending) []bool { return []bool{true} }); err != nil {
			t.Fatal(err)
		}
		if n, oldest, err := st.Backlog(t.Context()); err != nil || n != 2 || !oldest.Equal(first.Add(time.Minute)) {
			t.Fatalf("after one start: backlog %d, oldest %v, %v; want 2 from %v", n, oldest, err, first.Add(time.Minute))
		}
	})
}
