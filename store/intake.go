package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/models"
)

// Pending is a stored callback whose workflow is not known to be started.
type Pending struct {
	ID         uint64
	Origin     string
	Vendor     string
	EventKey   string
	EventType  string
	WorkflowID string
	ReceivedAt time.Time
	// TraceParent continues the trace of the request that brought the
	// callback; empty when there is none.
	TraceParent string
}

// StartPending claims up to limit stored callbacks that have no workflow yet,
// oldest first, for lease, hands them to start, and marks the ones start reports
// started (start returns one flag per callback). The claim is a lease
// written in a short transaction (on MySQL with FOR UPDATE SKIP LOCKED, so
// relays running at once take different rows); no row lock is held while
// start calls Temporal, so the edge and the workflows never wait for a
// relay. A relay that dies leaves its batch to another once the lease
// lapses; a callback started twice is refused by its workflow id. It returns
// how many were handed over.
//
// When the store fails after the claim may have been written (its commit
// went unanswered, or the marking after start did), the error is an
// *UnsettledError naming the callbacks concerned: the caller settles them
// with Settle once the store answers, so they are not left to the lease.
func (s *Store) StartPending(ctx context.Context, limit int, lease time.Duration, start func([]Pending) []bool) (int, error) {
	cctx, cancel := context.WithTimeout(ctx, claimTimeout)
	defer cancel()
	db := s.db.WithContext(cctx)
	var batch []Pending
	err := db.Transaction(func(tx *gorm.DB) error {
		q := tx.Model(&models.InboundEvent{}).
			Select("id", "origin", "vendor", "event_key", "event_type", "workflow_id", "received_at", "trace_parent").
			Where("started_at IS NULL AND (relay_until IS NULL OR relay_until < ?)", now()).Order("id").Limit(limit)
		if tx.Dialector.Name() == "mysql" {
			q = q.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
		}
		if err := q.Find(&batch).Error; err != nil {
			return fmt.Errorf("read callbacks waiting for a workflow: %w", err)
		}
		if len(batch) == 0 {
			return nil
		}
		return tx.Model(&models.InboundEvent{}).Where("id IN ?", pendingIDs(batch)).Update("relay_until", now().Add(lease)).Error
	}, txOptions(db))
	if err != nil {
		if len(batch) > 0 {
			// The claim may have been committed without its answer arriving.
			return 0, &UnsettledError{Unsettled: Unsettled{Released: pendingIDs(batch)}, Err: fmt.Errorf("claim callbacks for a start: %w", err)}
		}
		return 0, err
	}
	if len(batch) == 0 {
		return 0, nil
	}
	started := start(batch)
	var u Unsettled
	for i, p := range batch {
		if i < len(started) && started[i] {
			u.Started = append(u.Started, p.ID)
		} else {
			u.Released = append(u.Released, p.ID)
		}
	}
	// Marked even when ctx ended meanwhile (a relay stopping): what started is
	// recorded and the rest released rather than left to the lease.
	if err := s.Settle(context.WithoutCancel(ctx), u); err != nil {
		return len(batch), &UnsettledError{Unsettled: u, Err: err}
	}
	return len(batch), nil
}

// claimTimeout bounds each of the relay's short writes (the claim, and
// Settle), so a store that stops answering (a network partition rather
// than a refusal) fails the relay's try instead of holding it.
const claimTimeout = 10 * time.Second

func pendingIDs(batch []Pending) []uint64 {
	ids := make([]uint64, len(batch))
	for i, p := range batch {
		ids[i] = p.ID
	}
	return ids
}

// Unsettled names claimed callbacks whose claim is still to be settled:
// those whose workflow started (to be marked started) and the others (to be
// released, so the next try takes them at once).
type Unsettled struct {
	Started, Released []uint64
}

// UnsettledError is StartPending's error when the store failed while
// callbacks it had claimed were left unsettled.
type UnsettledError struct {
	Unsettled
	Err error
}

func (e *UnsettledError) Error() string {
	return fmt.Sprintf("%v (%d callbacks left claimed)", e.Err, len(e.Started)+len(e.Released))
}

func (e *UnsettledError) Unwrap() error { return e.Err }

// Settle marks u's started callbacks started and releases the claim on the
// others. Releasing a claim that was never written, or that another relay
// holds since, costs at most one more start, which the workflow id refuses.
func (s *Store) Settle(ctx context.Context, u Unsettled) error {
	ctx, cancel := context.WithTimeout(ctx, claimTimeout)
	defer cancel()
	db := s.db.WithContext(ctx)
	if len(u.Started) > 0 {
		err := db.Model(&models.InboundEvent{}).Where("id IN ? AND started_at IS NULL", u.Started).
			Updates(map[string]any{"started_at": now(), "relay_until": nil}).Error
		if err != nil {
			return fmt.Errorf("mark %d callbacks started: %w", len(u.Started), err)
		}
	}
	if len(u.Released) > 0 {
		err := db.Model(&models.InboundEvent{}).Where("id IN ? AND started_at IS NULL", u.Released).Update("relay_until", nil).Error
		if err != nil {
			return fmt.Errorf("release %d callbacks: %w", len(u.Released), err)
		}
	}
	return nil
}

// txOptions runs a transaction at READ COMMITTED on MySQL, so its locking
// reads lock the rows they return and no gap; SQLite's are serialisable.
func txOptions(db *gorm.DB) *sql.TxOptions {
	if db.Dialector.Name() == "mysql" {
		return &sql.TxOptions{Isolation: sql.LevelReadCommitted}
	}
	return nil
}

// Backlog counts the stored callbacks waiting for a workflow and returns
// when the oldest of them arrived (zero when there are none).
func (s *Store) Backlog(ctx context.Context) (int64, time.Time, error) {
	waiting := func(db *gorm.DB) *gorm.DB { return db.Where("started_at IS NULL") }
	return countOldest[models.InboundEvent](s.db.WithContext(ctx), waiting, "received_at", "id", "callbacks waiting for a workflow")
}

// Parked counts the records whose newest state waits for an operator's
// retry or skip (the ERP refused it, or its retry budget ran out), and
// returns when the longest-waiting of them was parked (zero when none):
// indexed reads.
func (s *Store) Parked(ctx context.Context) (int64, time.Time, error) {
	return countOldest[models.RecordState](s.db.WithContext(ctx), parkedRows, "updated_at", "updated_at", "parked records")
}

// countOldest counts the rows of T that scope selects and returns the time
// in column of the first of them in order (zero when there are none); what
// names the rows in errors.
func countOldest[T any](db *gorm.DB, scope func(*gorm.DB) *gorm.DB, column, order, what string) (int64, time.Time, error) {
	var n int64
	if err := db.Model(new(T)).Scopes(scope).Count(&n).Error; err != nil {
		return 0, time.Time{}, fmt.Errorf("count %s: %w", what, err)
	}
	if n == 0 {
		return 0, time.Time{}, nil
	}
	var oldest []time.Time
	if err := db.Model(new(T)).Scopes(scope).Order(order).Limit(1).Pluck(column, &oldest).Error; err != nil {
		return 0, time.Time{}, fmt.Errorf("find the oldest of the %s: %w", what, err)
	}
	if len(oldest) == 0 { // gone since the count
		return n, time.Time{}, nil
	}
	return n, oldest[0], nil
}

// Callback returns the raw body of a stored callback; ok is false when there is none.
// A part of a split message answers with the message's body.
func (s *Store) Callback(ctx context.Context, vendor, eventKey string) (body []byte, ok bool, err error) {
	var row models.InboundEvent
	err = s.db.WithContext(ctx).Select("body", "parent_key").Where("vendor = ? AND event_key = ?", vendor, eventKey).Limit(1).Find(&row).Error
	if err != nil {
		return nil, false, fmt.Errorf("read stored callback: %w", err)
	}
	if row.ParentKey != "" {
		return s.Callback(ctx, vendor, row.ParentKey)
	}
	return row.Body, row.Body != nil, nil
}

// ResolveClaimCheck returns the stored callback a claim check names (see
// flow.ClaimCheckFor), for the codec server.
func (s *Store) ResolveClaimCheck(ctx context.Context, ref string) (json.RawMessage, bool, error) {
	vendor, key, ok := flow.ParseClaimCheck(ref)
	if !ok {
		return nil, false, nil
	}
	body, ok, err := s.Callback(ctx, vendor, key)
	return json.RawMessage(body), ok, err
}

// Ready reports whether the store can durably take a callback now.
func (s *Store) Ready(ctx context.Context) error { return Ping(ctx, s.db) }
