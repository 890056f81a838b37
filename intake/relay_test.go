package intake_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"gorm.io/gorm"

	"github.com/erpbridge/erpbridge/intake"
	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/store"
)

// starter is a Temporal that starts every workflow it is asked for once.
type starter struct {
	mu      sync.Mutex
	started map[string]int
}

func (s *starter) ExecuteWorkflow(_ context.Context, o client.StartWorkflowOptions, _ any, _ ...any) (client.WorkflowRun, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.started[o.ID]++
	return nil, nil
}

// A store that fails between the relay's claim and its marking (the
// connection cut as the starts finish) leaves callbacks claimed under the
// lease. The relay remembers them and settles them on its next drain once
// the store answers: the started ones are marked without a second start,
// and the others are started then, not when the lease lapses.
func TestRelaySettlesWhatTheStoreFailedToMark(t *testing.T) {
	t.Parallel()
	testenv.EachStore(t, func(t *testing.T, db *gorm.DB) {
		var down atomic.Bool
		if err := db.Callback().Update().Before("gorm:update").Register("test:down", func(tx *gorm.DB) {
			if down.Load() {
				_ = tx.AddError(errors.New("store unreachable"))
			}
		}); err != nil {
			t.Fatal(err)
		}
		st := store.New(db)
		for i := range 3 {
			key := fmt.Sprintf("k-%d", i)
			if _, err := st.Receive(t.Context(), store.Inbound{Vendor: "v", EventKey: key, EventType: "t", Body: []byte(`{}`),
				WorkflowID: "v:" + key, ReceivedAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
		}
		temporal := &starter{started: map[string]int{}}
		down.Store(true) // reads answer, writes fail: the claim fails, nothing starts
		r := intake.NewRelay(st, temporal, "q", nil, nil)
		if err := r.Drain(t.Context()); err == nil {
			t.Fatal("drain with the store failing: no error")
		}
		down.Store(false)

		// The starts succeed, then the store fails before they are marked.
		cut := &cutAfterStart{starter: temporal, down: &down}
		r = intake.NewRelay(st, cut, "q", nil, nil)
		if err := r.Drain(t.Context()); err == nil {
			t.Fatal("drain whose marking failed: no error")
		}
		if n, _, _ := st.Backlog(t.Context()); n != 3 {
			t.Fatalf("backlog %d while the store was down, want 3", n)
		}
		down.Store(false)
		if err := r.Drain(t.Context()); err != nil {
			t.Fatalf("drain once the store answers: %v", err)
		}
		if n, _, _ := st.Backlog(t.Context()); n != 0 {
			t.Fatalf("backlog %d after the store came back, want 0 (not left to the lease)", n)
		}
		for _, id := range []string{"v:k-0", "v:k-1", "v:k-2"} {
			if temporal.started[id] != 1 {
				t.Errorf("%s started %d times, want once", id, temporal.started[id])
			}
		}
	})
}

// cutAfterStart starts like its starter, then cuts the store.
type cutAfterStart struct {
	*starter
	down *atomic.Bool
}

func (c *cutAfterStart) ExecuteWorkflow(ctx context.Context, o client.StartWorkflowOptions, w any, args ...any) (client.WorkflowRun, error) {
	run, err := c.starter.ExecuteWorkflow(ctx, o, w, args...)
	c.down.Store(true)
	return run, err
}
