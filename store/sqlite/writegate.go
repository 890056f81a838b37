package sqlite

import (
	"context"
	"database/sql"
	"sync"

	"gorm.io/gorm"
)

// writeGate serialises this process's writers (see the package doc): a lock
// with two FIFO queues, urgent waiters served first.
type writeGate struct {
	mu     sync.Mutex
	held   bool
	urgent []chan struct{}
	normal []chan struct{}
}

type urgentKey struct{}

// Urgent marks ctx's writes as ones a caller is waiting on: they pass the
// write gate before the others.
func Urgent(ctx context.Context) context.Context { return context.WithValue(ctx, urgentKey{}, true) }

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

// GetDBConn returns the pool's database.
func (p *gatedPool) GetDBConn() (*sql.DB, error) { return p.DB, nil }

// BeginTx begins a transaction once it holds the write gate.
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

// ExecContext runs a write outside a transaction under the write gate.
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

// GetDBConn returns the database the transaction runs on.
func (t *gatedTx) GetDBConn() (*sql.DB, error) { return t.db, nil }

// Commit commits and releases the write gate.
func (t *gatedTx) Commit() error {
	defer t.release()
	return t.Tx.Commit()
}

// Rollback rolls back and releases the write gate.
func (t *gatedTx) Rollback() error {
	defer t.release()
	return t.Tx.Rollback()
}
