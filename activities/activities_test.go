package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"gorm.io/gorm"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/erpsim"
	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/store"
	"github.com/erpbridge/erpbridge/vendors"
	"github.com/erpbridge/erpbridge/vendors/autox3"
	"github.com/erpbridge/erpbridge/vendors/fenbeitong"
)

const secret = "activity-test-secret"

// testVendors is the vendor registry the activities decode with.
func testVendors(t testing.TB) *vendors.Registry {
	reg, err := vendors.NewRegistry(autox3.New(secret), fenbeitong.New([]string{"token"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// receptionInput stores an AutoX3 reception order callback as the edge does
// (a redelivery changes nothing) and returns the input that persists it.
func receptionInput(t testing.TB, a *Activities, msgID string, rbid, createTime int64) flow.PersistInput {
	t.Helper()
	body := autox3.SampleReceptionBody(msgID, rbid, createTime, secret)
	in := flow.EventInput{Vendor: "autox3", EventKey: msgID, EventType: autox3.MsgTypeReceptionCreate,
		ReceivedAt: time.Now(), ClaimCheck: flow.ClaimCheckFor("autox3", msgID)}
	if _, err := a.Store.Receive(context.Background(), store.Inbound{Vendor: in.Vendor, EventKey: msgID, EventType: in.EventType,
		Body: body, WorkflowID: "autox3:" + msgID, ReceivedAt: in.ReceivedAt}); err != nil {
		t.Fatal(err)
	}
	return flow.PersistInput{Event: in, WorkflowID: "autox3:" + msgID}
}

// newEnv runs activities the way a worker does, with their context.
func newEnv(t *testing.T, a *Activities) *testsuite.TestActivityEnvironment {
	var s testsuite.WorkflowTestSuite
	// Failures are asserted on; the SDK's own error lines would only be noise.
	s.SetLogger(sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	return env
}

// persistedReception is activities on a fresh SQLite store, their test
// environment, and one reception order (message msgID, order rbid, version
// 1000) persisted through them.
func persistedReception(t *testing.T, msgID string, rbid int64) (*gorm.DB, *Activities, *testsuite.TestActivityEnvironment) {
	t.Helper()
	db := testenv.SQLite(t)
	a := &Activities{Store: store.New(db), Vendors: testVendors(t)}
	env := newEnv(t, a)
	persist(t, env, a, receptionInput(t, a, msgID, rbid, 1000))
	return db, a, env
}

// Concurrent events of one record, persisted in any order: the stored state
// is the newest, every revision bump is a newer version, and a replay of an
// event changes nothing.
func TestPersistKeepsNewestUnderConcurrency(t *testing.T) {
	t.Parallel()
	testenv.EachStore(t, func(t *testing.T, db *gorm.DB) {
		a := &Activities{Store: store.New(db), Vendors: testVendors(t)}
		env := newEnv(t, a)
		// A test activity environment is not safe for concurrent use:
		// one per concurrent call, as a worker's slots would be.
		envs := make([]*testsuite.TestActivityEnvironment, 12)
		for i := range envs {
			envs[i] = newEnv(t, a)
		}
		const n = 12
		rbid := rand.Int64N(1_000_000_000)
		base := time.Now().Add(-time.Hour).UnixMilli()
		order := rand.Perm(n)
		results := make([]flow.PersistResult, n)
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i, k := range order {
			wg.Add(1)
			go func() {
				defer wg.Done()
				v, err := envs[i].ExecuteActivity(a.Persist, receptionInput(t, a, fmt.Sprintf("m-%d-%d", rbid, k), rbid, base+int64(k)))
				if err != nil {
					errs <- err
					return
				}
				if err := v.Get(&results[i]); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		var st models.RecordState
		if err := db.Where("kind = ? AND external_id = ?", "reception_order", strconv.FormatInt(rbid, 10)).Take(&st).Error; err != nil {
			t.Fatal(err)
		}
		if st.Version != base+n-1 {
			t.Fatalf("stored version %d, want the newest %d", st.Version, base+n-1)
		}
		var applied int64
		for _, r := range results {
			if r.Applied {
				applied++
			}
		}
		if applied != st.Revision {
			t.Fatalf("%d events applied but revision is %d", applied, st.Revision)
		}
		var order1 models.InboundEvent
		db.Where("event_key = ?", fmt.Sprintf("m-%d-%d", rbid, n-1)).Take(&order1)
		if !order1.Applied {
			t.Fatal("the newest event is not marked applied")
		}
		var rows int64
		db.Table("autox3_reception_orders").Where("receive_base_id = ? AND version = ?", rbid, base+n-1).Count(&rows)
		if rows != 1 {
			t.Fatal("normalised rows do not hold the newest state")
		}

		// Replaying an event answers as the first time and writes nothing.
		r := persist(t, env, a, receptionInput(t, a, fmt.Sprintf("m-%d-%d", rbid, n-1), rbid, base+n-1))
		var events int64
		db.Model(&models.InboundEvent{}).Where("external_id = ?", strconv.FormatInt(rbid, 10)).Count(&events)
		if !r.Applied || r.Revision != order1.Revision || events != n {
			t.Fatalf("replay answered %+v with %d events stored", r, events)
		}
	})
}

// Content that fails validation is a non-retryable InvalidContent failure of
// Persist, before anything is written.
func TestPersistInvalidContentIsNonRetryable(t *testing.T) {
	t.Parallel()
	st := store.New(testenv.SQLite(t))
	a := &Activities{Store: st, Vendors: testVendors(t)}
	env := newEnv(t, a)
	body := autox3.BuildBody("bad-1", autox3.MsgTypeReceptionCreate, time.Now().UnixMilli(), []byte(`{}`), []byte(`{"carInfo":{}}`), false, secret)
	if _, err := st.Receive(t.Context(), store.Inbound{Vendor: "autox3", EventKey: "bad-1", Body: body, WorkflowID: "autox3:bad-1", ReceivedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	_, err := env.ExecuteActivity(a.Persist, flow.PersistInput{Event: flow.EventInput{Vendor: "autox3", EventKey: "bad-1",
		ClaimCheck: flow.ClaimCheckFor("autox3", "bad-1")}, WorkflowID: "autox3:bad-1"})
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != flow.ErrInvalidContent || !appErr.NonRetryable() {
		t.Fatalf("error = %v, want non-retryable %s", err, flow.ErrInvalidContent)
	}
	if stored, ok, _ := st.Callback(t.Context(), "autox3", "bad-1"); !ok || string(stored) != string(body) {
		t.Fatal("the stored callback was lost")
	}
	// A claim check that names nothing stored fails for good, not forever.
	_, err = env.ExecuteActivity(a.Persist, flow.PersistInput{Event: flow.EventInput{Vendor: "autox3", EventKey: "never-stored"}})
	if !errors.As(err, &appErr) || appErr.Type() != flow.ErrCallbackMissing || !appErr.NonRetryable() {
		t.Fatalf("missing callback: %v", err)
	}
	// A key that does not match the body (a forged workflow input) is refused too.
	good := fenbeitong.SampleBody("o-1", 700, "2020-04-30 19:32:01")
	const forged = "3:o-1:700:0000000000000000"
	if _, err := st.Receive(t.Context(), store.Inbound{Vendor: "fenbeitong", EventKey: forged, Body: good, WorkflowID: "fenbeitong:" + forged, ReceivedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	_, err = env.ExecuteActivity(a.Persist, flow.PersistInput{Event: flow.EventInput{Vendor: "fenbeitong", EventKey: forged}})
	if !errors.As(err, &appErr) || appErr.Type() != flow.ErrInvalidContent {
		t.Fatalf("mismatched key: %v", err)
	}
}

// SyncRecord sends the newest state once, classifies the ERP's answers and
// records every attempt.
func TestSyncRecordAgainstERP(t *testing.T) {
	t.Parallel()
	testenv.EachStore(t, func(t *testing.T, db *gorm.DB) {
		sim, err := erpsim.New("", "tok")
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(sim.Handler())
		defer srv.Close()
		a := &Activities{Store: store.New(db), Vendors: testVendors(t), ERP: erp.NewClient(srv.URL, "tok", 5*time.Second)}
		env := newEnv(t, a)
		rbid := rand.Int64N(1_000_000_000)
		ext := strconv.FormatInt(rbid, 10)
		persist(t, env, a, receptionInput(t, a, "s-1", rbid, 1000))
		in := flow.SyncInput{Vendor: "autox3", Kind: "reception_order", ExternalID: ext}

		// ERP down: a retryable error, the record stays pending.
		_ = sim.SetFaults(erpsim.Faults{FailureRate: 1})
		_, err = env.ExecuteActivity(a.SyncRecord, in)
		var appErr *temporal.ApplicationError
		if err == nil || (errors.As(err, &appErr) && appErr.NonRetryable()) {
			t.Fatalf("ERP 503 gave %v, want a retryable error", err)
		}
		// ERP rejects: non-retryable ERPRejected with the rejection as details.
		_ = sim.SetFaults(erpsim.Faults{RejectExternalIDs: []string{ext}, RejectReason: "no such customer"})
		_, err = env.ExecuteActivity(a.SyncRecord, in)
		if !errors.As(err, &appErr) || appErr.Type() != flow.ErrERPRejected || !appErr.NonRetryable() {
			t.Fatalf("ERP 422 gave %v, want non-retryable %s", err, flow.ErrERPRejected)
		}
		var rej flow.Rejection
		if err := appErr.Details(&rej); err != nil || rej.HTTPStatus != 422 || rej.Revision != 1 {
			t.Fatalf("rejection details %+v (%v)", rej, err)
		}
		// The record workflow owns the outcome: the event's row says so.
		wantEvent(t, db, "s-1", models.EventRejected, "no such customer")
		// ERP fine: sent once; a second sync has nothing to send.
		_ = sim.SetFaults(erpsim.Faults{})
		res := syncOnce(t, env, a, in)
		if !res.Sent || res.SyncedRevision != 1 {
			t.Fatalf("sync result %+v", res)
		}
		wantEvent(t, db, "s-1", models.EventSynced, "")
		if res := syncOnce(t, env, a, in); res.Sent {
			t.Fatal("a synced record was sent again")
		}
		// A newer state is sent; the ERP's last record is the newest.
		persist(t, env, a, receptionInput(t, a, "s-2", rbid, 2000))
		wantEvent(t, db, "s-2", models.EventPending, "")
		if res := syncOnce(t, env, a, in); !res.Sent || res.SentVersion != 2000 {
			t.Fatalf("newer state sync %+v", res)
		}
		wantEvent(t, db, "s-2", models.EventSynced, "")
		wantEvent(t, db, "s-1", models.EventSynced, "")
		// Two newer states before a send: the ERP gets the newest; the
		// other event is superseded, never sent.
		persist(t, env, a, receptionInput(t, a, "s-3", rbid, 3000))
		persist(t, env, a, receptionInput(t, a, "s-4", rbid, 4000))
		if res := syncOnce(t, env, a, in); !res.Sent || res.SentVersion != 4000 {
			t.Fatalf("newest state sync %+v", res)
		}
		wantEvent(t, db, "s-3", models.EventSuperseded, "the ERP has revision 4")
		wantEvent(t, db, "s-4", models.EventSynced, "")
		recs := sim.Records("autox3", "reception_order", ext)
		if len(recs) != 3 || recs[1].Version != 2000 || recs[2].Version != 4000 {
			t.Fatalf("ERP records %d", len(recs))
		}
		var attempts []models.SyncAttempt
		db.Where("external_id = ?", ext).Order("id").Find(&attempts)
		outcomes := ""
		for _, at := range attempts {
			outcomes += string(at.Outcome) + " "
		}
		if outcomes != "retry rejected accepted accepted accepted " {
			t.Fatalf("attempts recorded: %q", outcomes)
		}
	})
}

// MarkSkipped settles a rejected revision and records the decision.
func TestMarkSkipped(t *testing.T) {
	t.Parallel()
	db, a, env := persistedReception(t, "k-1", 77)
	if _, err := env.ExecuteActivity(a.MarkSkipped, flow.SkipInput{Vendor: "autox3", Kind: "reception_order", ExternalID: "77", Revision: 1, Reason: "test car"}); err != nil {
		t.Fatal(err)
	}
	var st models.RecordState
	db.Where("external_id = ?", "77").Take(&st)
	if st.SyncedRevision != 1 || st.SyncStatus != models.RecordSkipped {
		t.Fatalf("record after skip: %+v", st)
	}
	wantEvent(t, db, "k-1", models.EventSkipped, "test car")
}

// wantEvent checks an AutoX3 event's outcome in its inbound_events row; its detail contains detail.
func wantEvent(t *testing.T, db *gorm.DB, msgID string, status models.EventStatus, detail string) {
	t.Helper()
	var ev models.InboundEvent
	if err := db.Where("vendor = ? AND event_key = ?", "autox3", msgID).Take(&ev).Error; err != nil {
		t.Fatalf("event %s: %v", msgID, err)
	}
	if ev.SyncStatus != status || !strings.Contains(ev.SyncDetail, detail) || (detail == "" && ev.SyncDetail != "") {
		t.Fatalf("event %s is %q (%q), want %q (%q)", msgID, ev.SyncStatus, ev.SyncDetail, status, detail)
	}
	if (status == models.EventSynced) != (ev.SyncedAt != nil) {
		t.Fatalf("event %s is %s with synced_at %v", msgID, status, ev.SyncedAt)
	}
}

// persist runs Persist and requires it to succeed.
func persist(t *testing.T, env *testsuite.TestActivityEnvironment, a *Activities, in flow.PersistInput) flow.PersistResult {
	t.Helper()
	return execute[flow.PersistResult](t, env, a.Persist, in)
}

// syncOnce runs SyncRecord once and requires it to succeed.
func syncOnce(t *testing.T, env *testsuite.TestActivityEnvironment, a *Activities, in flow.SyncInput) flow.SyncResult {
	t.Helper()
	return execute[flow.SyncResult](t, env, a.SyncRecord, in)
}

// execute runs activity with in, requires it to succeed and decodes its result.
func execute[R any](t *testing.T, env *testsuite.TestActivityEnvironment, activity, in any) R {
	t.Helper()
	v, err := env.ExecuteActivity(activity, in)
	if err != nil {
		t.Fatal(err)
	}
	var r R
	if err := v.Get(&r); err != nil {
		t.Fatal(err)
	}
	return r
}

// BenchmarkPersist measures one Persist (decode, event row, compare-and-set,
// normalised rows) on each store.
func BenchmarkPersist(b *testing.B) {
	for _, db := range []struct {
		name string
		open func(testing.TB) *gorm.DB
	}{{"sqlite", testenv.SQLite}, {"mysql", testenv.MySQL}} {
		b.Run(db.name, func(b *testing.B) {
			a := &Activities{Store: store.New(db.open(b)), Vendors: testVendors(b)}
			ctx := context.Background()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				if _, err := a.Persist(ctx, receptionInput(b, a, fmt.Sprintf("b-%d", i), int64(i), int64(1000+i))); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// A record parked because its retry budget ran out is recorded as parked in
// the store, as after a refusal: the record and its waiting event rejected
// with the reason, so the parked gauge and operators count it.
func TestMarkParkedRecordsTheParking(t *testing.T) {
	t.Parallel()
	db, a, env := persistedReception(t, "p-1", 78)
	const reason = "gave up after the retry budget: ERP answered 503"
	if _, err := env.ExecuteActivity(a.MarkParked, flow.SkipInput{Vendor: "autox3", Kind: "reception_order", ExternalID: "78", Revision: 1, Reason: reason}); err != nil {
		t.Fatal(err)
	}
	var st models.RecordState
	db.Where("external_id = ?", "78").Take(&st)
	if st.SyncStatus != models.RecordRejected || st.LastError != reason {
		t.Fatalf("record after parking: %s %q", st.SyncStatus, st.LastError)
	}
	wantEvent(t, db, "p-1", models.EventRejected, "retry budget")
	if n, _, err := a.Store.Parked(t.Context()); err != nil || n != 1 {
		t.Fatalf("parked = %d, %v; want 1", n, err)
	}
}
