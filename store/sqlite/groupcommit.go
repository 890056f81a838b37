package sqlite

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// GroupCommitTimeout bounds the writing of one batch, its retries included.
// Each caller stops waiting at its own deadline; the batch goes on for the
// others.
const GroupCommitTimeout = 10 * time.Second

// GroupCommit is group commit for SQLite, where one connection writes at a
// time: the items stored at once go into one write (one transaction, the
// items inserted one by one, each learning whether it was a duplicate, and
// committed together), so a burst of callers waits for one commit instead
// of queueing for one each. A writer goroutine runs while there is
// something to write: it takes the queue as it stands, writes it, answers
// its callers, and takes what queued meanwhile. A caller is answered only
// once its batch's write returned, or stops waiting when its context ends
// (its item is then left out if its batch was not taken yet). When a
// batch's write fails, each of its items is written again alone, so only
// the callers whose own item fails are refused.
type GroupCommit[T any] struct {
	write func(ctx context.Context, batch []T) (duplicates []bool, err error)

	mu      sync.Mutex
	writing bool       // the writer goroutine runs
	queue   []*call[T] // items waiting for the next batch
}

// call is one caller's item waiting for its answer.
type call[T any] struct {
	item T
	done chan struct{} // closed once dup and err are set
	dup  bool
	err  error
}

// NewGroupCommit returns a group commit whose batches write writes: in one
// transaction (run it with Urgent(ctx) so it passes the write gate first),
// saying for each item of batch whether it was a duplicate. ctx ends after
// GroupCommitTimeout.
func NewGroupCommit[T any](write func(ctx context.Context, batch []T) (duplicates []bool, err error)) *GroupCommit[T] {
	return &GroupCommit[T]{write: write}
}

// Do writes item with the next batch and says whether it was a duplicate.
func (g *GroupCommit[T]) Do(ctx context.Context, item T) (duplicate bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	c := &call[T]{item: item, done: make(chan struct{})}
	g.mu.Lock()
	g.queue = append(g.queue, c)
	start := !g.writing
	g.writing = true
	g.mu.Unlock()
	if start {
		go g.run()
	}
	select {
	case <-c.done:
		return c.dup, c.err
	case <-ctx.Done():
		g.leave(c)
		return false, ctx.Err()
	}
}

// Waiting is the number of items queued for the next batch (not counting
// the batch being written).
func (g *GroupCommit[T]) Waiting() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.queue)
}

// leave takes c out of the queue if its batch was not taken yet.
func (g *GroupCommit[T]) leave(c *call[T]) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, q := range g.queue {
		if q == c {
			g.queue = append(g.queue[:i], g.queue[i+1:]...)
			return
		}
	}
}

// run writes batches until the queue is empty.
func (g *GroupCommit[T]) run() {
	for {
		g.mu.Lock()
		batch := g.queue
		g.queue = nil
		if len(batch) == 0 {
			g.writing = false
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		g.writeBatch(batch)
	}
}

// writeBatch writes one batch and answers its callers.
func (g *GroupCommit[T]) writeBatch(batch []*call[T]) {
	ctx, cancel := context.WithTimeout(context.Background(), GroupCommitTimeout)
	defer cancel()
	dups, err := g.writeItems(ctx, batch)
	if err != nil && len(batch) > 1 {
		// One bad item must not fail the others: write each alone, so only
		// the callers whose own write fails are refused.
		for _, c := range batch {
			d, e := g.writeItems(ctx, []*call[T]{c})
			c.dup, c.err = e == nil && d[0], e
			close(c.done)
		}
		return
	}
	for i, c := range batch {
		c.dup, c.err = err == nil && dups[i], err
		close(c.done)
	}
}

// writeItems calls write with the items of batch; on success it answers
// exactly one duplicate flag per item.
func (g *GroupCommit[T]) writeItems(ctx context.Context, batch []*call[T]) ([]bool, error) {
	items := make([]T, len(batch))
	for i, c := range batch {
		items[i] = c.item
	}
	dups, err := g.write(ctx, items)
	if err != nil {
		return nil, err
	}
	if len(dups) != len(items) {
		return nil, fmt.Errorf("group commit: the write answered %d duplicate flags for a batch of %d", len(dups), len(items))
	}
	return dups, nil
}
