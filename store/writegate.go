package store

import (
	"context"
	"database/sql"
	"sync"

	"gorm.io/gorm"
)

// SQLite lets one connection write at a time. Left to itself, a writer that
// finds the database locked sleeps in SQLite's busy handler (1 to 100 ms a
// try) and a deferred transaction that reads before it writes can fail
// outright; funnelling everything through one connection instead queues
// reads behind writes and hands the connection to a random waiter. The
// write gate serialises this process's writers in Go: a transaction (every
// GORM write runs in one) or a write outside one waits for the gate before
// it takes a connection and holds it until it commits or rolls back, so no
// writer meets another's lock and plain reads, which WAL lets run beside a
// writer, never wait. (A query outside a transaction is taken for a read:
// GORM runs every write in a transaction, INSERT ... RETURNING included.)
// Writes marked urgent (the edge's intake, which a caller is waiting on)
// pass before the others, in arrival order. Another process writing the
// same file still meets SQLite's lock and its busy timeout.

// writeGate is a lock with two FIFO queues: urgent waiters are served first.
type writeGate struct {
	mu     sync.Mutex
	held   bool
	urgent []chan struct{}
	normal []chan struct{}
}

type urgentKey struct{}

// urgent marks ctx's writes as ones a caller is waiting on.
func urgent(ctx context.Context) context.Context { return context.WithValue(ctx, urgentKey{}, true) }

func isUrgent(ctx context.Context) bool { v, _ := ctx.Value(urgentKey{}).(bool); return v }

// lock takes the gate, or returns ctx's error without it.
func (g *writeGate) lock(ctx context.Context) error {
	g.mu.Lock()
	if !g.held {
		g.held = true
		g.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	hurry := isUrgent(ctx)
	if hurry {
		g.urgent = append(g.urgent, ch)
	} else {
		g.normal = append(g.normal, ch)
	}
	g.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		g.mu.Lock()
		q := &g.normal
		if hurry {
			q = &g.urgent
		}
		for i, c := range *q {
			if c == ch {
				*q = append((*q)[:i], (*q)[i+1:]...)
				g.mu.Unlock()
				return ctx.Err()
			}
		}
		g.mu.Unlock()
		// Handed the gate just as ctx ended: pass it on.
		g.unlock()
		return ctx.Err()
	}
}

// unlock hands the gate to the first urgent waiter, else the first other one.
func (g *writeGate) unlock() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, q := range []*[]chan struct{}{&g.urgent, &g.normal} {
		if len(*q) > 0 {
			ch := (*q)[0]
			(*q)[0] = nil
			*q = (*q)[1:]
			close(ch)
			return
		}
	}
	g.held = false
}

// gatedPool is the connection pool GORM uses on SQLite: transactions and
// writes outside one pass the write gate first.
type gatedPool struct {
	*sql.DB
	gate *writeGate
}

var (
	_ gorm.ConnPool         = (*gatedPool)(nil)
	_ gorm.ConnPoolBeginner = (*gatedPool)(nil)
	_ gorm.GetDBConnector   = (*gatedPool)(nil)
	_ gorm.TxCommitter      = (*gatedTx)(nil)
	_ gorm.ConnPool         = (*gatedTx)(nil)
	_ gorm.GetDBConnector   = (*gatedTx)(nil)
)

func (p *gatedPool) GetDBConn() (*sql.DB, error) { return p.DB, nil }

func (p *gatedPool) BeginTx(ctx context.Context, opts *sql.TxOptions) (gorm.ConnPool, error) {
	if err := p.gate.lock(ctx); err != nil {
		return nil, err
	}
	tx, err := p.DB.BeginTx(ctx, opts)
	if err != nil {
		p.gate.unlock()
		return nil, err
	}
	return &gatedTx{Tx: tx, db: p.DB, release: sync.OnceFunc(p.gate.unlock)}, nil
}

func (p *gatedPool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := p.gate.lock(ctx); err != nil {
		return nil, err
	}
	defer p.gate.unlock()
	return p.DB.ExecContext(ctx, query, args...)
}

// gatedTx is a transaction holding the write gate until it ends.
type gatedTx struct {
	*sql.Tx
	db      *sql.DB
	release func()
}

func (t *gatedTx) GetDBConn() (*sql.DB, error) { return t.db, nil }

func (t *gatedTx) Commit() error {
	defer t.release()
	return t.Tx.Commit()
}

func (t *gatedTx) Rollback() error {
	defer t.release()
	return t.Tx.Rollback()
}
