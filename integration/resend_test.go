package integration

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/erpbridge/erpbridge/activities"
	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/internal/app"
	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/store"
	"github.com/erpbridge/erpbridge/vendors/autox3"
)

// resender is the resend command's engine on the stack's database and Temporal.
func (s *stack) resender(out *bytes.Buffer) *app.Resender {
	n := &activities.Activities{Temporal: s.c, TaskQueue: s.cfg.Temporal.TaskQueue, Policy: app.SyncPolicy(s.cfg)}
	return &app.Resender{Store: store.New(s.db), Notify: n.NotifyRecord, Out: out, Concurrency: 4}
}

// Resend sends each chosen record's newest state again through its record
// workflow under the same Idempotency-Key: an ERP that still holds it answers
// 409, and a newer state arriving during the resend still ends up last.
// (The cluster drill resends into an ERP restored from an older backup.)
func TestResendSendsNewestStateThroughRecordWorkflows(t *testing.T) {
	s := newStack(t, "mysql")
	base := time.Now().Add(-time.Hour).UnixMilli()
	var ids []string
	for i := range 3 {
		rbid := uniqueID() + int64(i)*11
		ids = append(ids, strconv.FormatInt(rbid, 10))
		msgID := uuid.NewString()
		s.mustAccept("/webhooks/autox3", autox3.SampleReceptionBody(msgID, rbid, base, appSecret))
		s.mustResult(flow.EventWorkflowID("autox3", msgID), string(models.EventSynced))
	}
	// A fourth order is parked by an ERP rejection: resend leaves it to operators.
	p := s.parkedReception("unknown customer in master data")
	parked := p.ext
	before := s.sim.Stats()

	// Resend the first two; meanwhile a newer state of the second arrives.
	var out bytes.Buffer
	newer := base + 60_000
	newerMsg := uuid.NewString()
	second, _ := strconv.ParseInt(ids[1], 10, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.mustAccept("/webhooks/autox3", autox3.SampleReceptionBody(newerMsg, second, newer, appSecret))
	}()
	sum, err := s.resender(&out).Run(context.Background(), store.ResendFilter{Vendor: "autox3", Kind: "reception_order", ExternalIDs: []string{ids[0], ids[1], parked}})
	<-done
	if err != nil {
		t.Fatalf("resend: %v\n%s", err, out.String())
	}
	if sum.Chosen != 3 || sum.Held != 1 || sum.Resent+sum.Pending != 2 {
		t.Fatalf("summary %+v\n%s", sum, out.String())
	}
	if !strings.Contains(out.String(), "resent       autox3/reception_order/"+ids[0]) || !strings.Contains(out.String(), "held         autox3/reception_order/"+parked) {
		t.Fatalf("output:\n%s", out.String())
	}
	s.mustResult(flow.EventWorkflowID("autox3", newerMsg), string(models.EventSynced))

	// The first order was sent again under its key and the ERP knew it.
	testenv.Eventually(t, "first order resent", time.Minute, func() error {
		var attempts []models.SyncAttempt
		s.db.Where("kind = ? AND external_id = ?", "reception_order", ids[0]).Order("id").Find(&attempts)
		if len(attempts) != 2 || attempts[1].Outcome != "duplicate" || attempts[1].IdempotencyKey != attempts[0].IdempotencyKey {
			return fmt.Errorf("attempts %+v", attempts)
		}
		st, err := store.New(s.db).Record(context.Background(), "autox3", "reception_order", ids[0])
		if err != nil || st.SyncedRevision != st.Revision || st.SyncStatus != models.RecordSynced {
			return fmt.Errorf("record %+v, %v", st, err)
		}
		return nil
	})
	if got := s.sim.Stats().Duplicates - before.Duplicates; got < 1 {
		t.Errorf("the ERP answered %d resends as duplicates, want at least 1", got)
	}
	// The second ends on the newer state, versions only growing; the third
	// (not chosen) and the parked one got nothing new.
	testenv.Eventually(t, "second order ends on the newer state", time.Minute, func() error {
		recs := s.records("reception_order", ids[1])
		if len(recs) == 0 || recs[len(recs)-1].Version != newer {
			return fmt.Errorf("records %v", recs)
		}
		return nil
	})
	assertVersionsGrow(t, s.records("reception_order", ids[1]))
	for _, id := range []string{ids[0], ids[2]} {
		if n := len(s.records("reception_order", id)); n != 1 {
			t.Errorf("order %s accepted %d times, want once", id, n)
		}
	}
	if n := len(s.records("reception_order", parked)); n != 0 {
		t.Errorf("parked order reached the ERP %d times", n)
	}
	if st, running := s.syncStatus(p.recordID); st != string(models.RecordRejected) || !running {
		t.Errorf("parked record: %s running=%v", st, running)
	}
	s.mustResult(p.wfID, string(models.EventRejected))
}
