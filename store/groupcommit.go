package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/store/sqlite"
)

// intakeWriteTimeout bounds the writing of one batch of intake inserts.
// Each caller stops waiting at its own deadline; the batch goes on for the others.
const intakeWriteTimeout = 10 * time.Second

// intakeBatcher is group commit for the edge's intake on SQLite, where one
// connection writes at a time: the callbacks stored at once go into one
// transaction, inserted one by one (each learns whether it was a
// duplicate) and committed together, so a burst of acks waits for one
// commit instead of queueing for one each. A writer goroutine runs while
// there is something to write: it takes the queue as it stands, writes it,
// answers its callers, and takes what queued meanwhile. A caller is
// answered only once its transaction committed, or stops waiting when its
// context ends (its callback is then left out if its batch was not taken yet).
type intakeBatcher struct {
	db *gorm.DB

	mu      sync.Mutex
	writing bool          // the writer goroutine runs
	queue   []*intakeCall // callbacks waiting for the next batch
}

type intakeCall struct {
	in   Inbound
	done chan struct{} // closed once dup and err are set
	dup  bool
	err  error
}

// receive stores in with the next batch and says whether it was a duplicate.
func (b *intakeBatcher) receive(ctx context.Context, in Inbound) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	c := &intakeCall{in: in, done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, c)
	start := !b.writing
	b.writing = true
	b.mu.Unlock()
	if start {
		go b.run()
	}
	select {
	case <-c.done:
		return c.dup, c.err
	case <-ctx.Done():
		b.leave(c)
		return false, ctx.Err()
	}
}

// leave takes c out of the queue if its batch was not taken yet.
func (b *intakeBatcher) leave(c *intakeCall) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, q := range b.queue {
		if q == c {
			b.queue = append(b.queue[:i], b.queue[i+1:]...)
			return
		}
	}
}

// run writes batches until the queue is empty.
func (b *intakeBatcher) run() {
	for {
		b.mu.Lock()
		batch := b.queue
		b.queue = nil
		if len(batch) == 0 {
			b.writing = false
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()
		b.write(batch)
	}
}

// write stores one batch and answers its callers.
func (b *intakeBatcher) write(batch []*intakeCall) {
	ctx, cancel := context.WithTimeout(context.Background(), intakeWriteTimeout)
	defer cancel()
	dups, err := insertIntake(ctx, b.db, batch)
	if err != nil && len(batch) > 1 {
		// One bad row must not fail the others: store each alone, so only
		// the callers whose own insert fails are refused.
		for _, c := range batch {
			d, e := insertIntake(ctx, b.db, []*intakeCall{c})
			c.dup, c.err = d[0] && e == nil, e
			close(c.done)
		}
		return
	}
	for i, c := range batch {
		c.dup, c.err = dups[i] && err == nil, err
		close(c.done)
	}
}

// insertIntake inserts a batch's callbacks in one transaction; a callback
// stored before, or earlier in the batch, is a duplicate and changes nothing.
func insertIntake(ctx context.Context, db *gorm.DB, batch []*intakeCall) ([]bool, error) {
	dups := make([]bool, len(batch))
	err := db.WithContext(sqlite.Urgent(ctx)).Transaction(func(tx *gorm.DB) error {
		for i, c := range batch {
			row := inboundRow(c.in, models.EventReceived, "")
			row.OccurredAt = row.ReceivedAt
			res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
			if res.Error != nil {
				return fmt.Errorf("store %s callback: %w", c.in.Vendor, res.Error)
			}
			dups[i] = res.RowsAffected == 0
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("store callback: the database did not take it within %s: %w", intakeWriteTimeout, err)
		}
		return dups, err
	}
	return dups, nil
}
