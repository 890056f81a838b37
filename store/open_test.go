package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/internal/testkit"
	"github.com/erpbridge/erpbridge/store"
)

// A MySQL address that takes connections and never answers (a frozen
// server, a proxy in front of a dead one) holds no process at start: the
// serving open gives up after its bound and returns a pool that connects
// when the server answers, migrations' open fails with the reason, and the
// edge's extra pool opens without asking the server anything.
func TestOpenGivesUpOnAServerThatNeverAnswers(t *testing.T) {
	dsn := "root:@tcp(" + testkit.SilentAddr(t) + ")/test"
	store.SetOpenTimeout(t, 300*time.Millisecond)

	began := time.Now()
	db, unreachable, err := store.OpenLazy(dsn, "")
	if err != nil || db == nil || unreachable == nil || !strings.Contains(unreachable.Error(), "no answer within 300ms") {
		t.Fatalf("OpenLazy: db %v, unreachable %v, err %v", db != nil, unreachable, err)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("OpenLazy took %s, want about its 300ms bound", took)
	}
	if sqlDB, err := db.DB(); err == nil {
		sqlDB.Close()
	}
	if _, err := store.Open(dsn, ""); err == nil || !strings.Contains(err.Error(), "mysql is unreachable") {
		t.Errorf("Open: %v, want the server named unreachable", err)
	}
	began = time.Now()
	pool, err := store.OpenPool(dsn)
	if err != nil {
		t.Fatalf("OpenPool: %v", err)
	}
	if took := time.Since(began); took > 100*time.Millisecond {
		t.Errorf("OpenPool took %s, want it to ask the server nothing", took)
	}
	if sqlDB, err := pool.DB(); err == nil {
		sqlDB.Close()
	}
}
