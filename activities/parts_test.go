package activities

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/store"
	"github.com/erpbridge/erpbridge/vendors/autox3"
)

// signals is a Temporal that takes every signal-with-start and remembers
// which record workflows it was given.
type signals struct {
	client.Client
	mu  sync.Mutex
	ids []string
}

func (s *signals) SignalWithStartWorkflow(_ context.Context, id, _ string, _ any, _ client.StartWorkflowOptions, _ any, _ ...any) (client.WorkflowRun, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ids = append(s.ids, id)
	return nil, nil
}

// A split's batch persists its parts, tells each part's record workflow
// once, and heartbeats (the step runs under a heartbeat timeout; the SDK
// sends the beats it throttles, so at least one is seen). The same batch
// again, as a retried step runs it, makes no new revision: the parts keep
// theirs, and their record workflows are told again, since the step that
// wrote them may have died before it told them (a record workflow takes a
// revision once).
func TestPersistPartsTellsEachRecordAndBeats(t *testing.T) {
	t.Parallel()
	temporal := &signals{}
	db := testenv.SQLite(t)
	a := &Activities{Store: store.New(db), Vendors: testVendors(t), Temporal: temporal, TaskQueue: "q", SplitNotifyConcurrency: 2,
		Policy: flow.SyncPolicy{RetryBudget: time.Hour, AttemptTimeout: time.Minute, InitialInterval: time.Second, MaximumInterval: time.Minute}}
	const msgID = "split-1"
	in := flow.EventInput{Vendor: "autox3", EventKey: msgID, EventType: autox3.MsgTypeMaintenanceV2,
		ReceivedAt: time.Now(), ClaimCheck: flow.ClaimCheckFor("autox3", msgID)}
	body := autox3.SampleMaintenanceV2Body(msgID, 9001, time.Now().UnixMilli(), secret)
	if _, err := a.Store.Receive(t.Context(), store.Inbound{Vendor: "autox3", EventKey: msgID, EventType: in.EventType,
		Body: body, WorkflowID: "autox3:" + msgID, ReceivedAt: in.ReceivedAt}); err != nil {
		t.Fatal(err)
	}
	env := newEnv(t, a)
	p := persist(t, env, a, flow.PersistInput{Event: in, WorkflowID: "autox3:" + msgID})
	if p.PartCount < 2 {
		t.Fatalf("the sample maintenance message split into %d parts, want several", p.PartCount)
	}

	var mu sync.Mutex
	beats := 0
	env.SetOnActivityHeartbeatListener(func(*activity.Info, converter.EncodedValues) {
		mu.Lock()
		defer mu.Unlock()
		beats++
	})
	res := execute[flow.PartsResult](t, env, a.PersistParts, flow.PartsInput{Event: in, WorkflowID: "autox3:" + msgID, From: 0, To: p.PartCount})
	if res.Applied != p.PartCount || res.Superseded != 0 {
		t.Fatalf("batch result %+v, want all %d parts applied", res, p.PartCount)
	}
	if len(temporal.ids) != p.PartCount {
		t.Fatalf("%d record workflows told, want %d: %v", len(temporal.ids), p.PartCount, temporal.ids)
	}
	if beats == 0 {
		t.Fatal("the batch sent no heartbeat")
	}

	// The same batch again, as a retried step: the same records told again,
	// each still at its first revision.
	first := slices.Sorted(slices.Values(temporal.ids))
	temporal.ids = nil
	execute[flow.PartsResult](t, env, a.PersistParts, flow.PartsInput{Event: in, WorkflowID: "autox3:" + msgID, From: 0, To: p.PartCount})
	if again := slices.Sorted(slices.Values(temporal.ids)); !slices.Equal(again, first) {
		t.Fatalf("the retried batch told %v, want %v again", again, first)
	}
	var revisions []int64
	if err := db.Model(&models.RecordState{}).Where("kind = ?", "maintenance_plan_item").Order("external_id").Pluck("revision", &revisions).Error; err != nil {
		t.Fatal(err)
	}
	if len(revisions) != p.PartCount || slices.Max(revisions) != 1 {
		t.Fatalf("part records at revisions %v after the retried batch, want %d records at revision 1", revisions, p.PartCount)
	}
}
