package ops

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"gorm.io/gorm"

	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/store"
)

// fakeTemporal stands in for the record workflows: each retry update is
// answered by then, which may also write what the send did to the store.
type fakeTemporal struct {
	mu       sync.Mutex
	gone     map[string]bool // workflow ids with no run
	refuse   map[string]bool // workflow ids whose retry is refused
	then     func(workflowID string)
	asked    []time.Time // when each record was first looked at
	updates  []string
	notified []flow.NotifyInput
}

func (f *fakeTemporal) DescribeWorkflow(_ context.Context, id, _ string) (*client.WorkflowExecutionDescription, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, time.Now())
	if f.gone[id] {
		return nil, serviceerror.NewNotFound("workflow not found")
	}
	return &client.WorkflowExecutionDescription{WorkflowExecutionMetadata: client.WorkflowExecutionMetadata{
		Status: enums.WORKFLOW_EXECUTION_STATUS_RUNNING}}, nil
}

func (f *fakeTemporal) QueryWorkflow(context.Context, string, string, string, ...any) (converter.EncodedValue, error) {
	return nil, errors.New("no queries here")
}

func (f *fakeTemporal) UpdateWorkflow(_ context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	f.mu.Lock()
	f.updates = append(f.updates, o.WorkflowID)
	refused := f.refuse[o.WorkflowID]
	f.mu.Unlock()
	if refused {
		return nil, temporal.NewNonRetryableApplicationError("nothing to retry: record is sending revision 2", flow.ErrNotApplicable, nil)
	}
	if f.then != nil {
		f.then(o.WorkflowID)
	}
	return answer("retrying revision 2"), nil
}

func (f *fakeTemporal) notify(_ context.Context, in flow.NotifyInput) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.notified = append(f.notified, in)
	return nil
}

// answer is an update's answer.
type answer string

func (a answer) WorkflowID() string { return "" }
func (a answer) RunID() string      { return "" }
func (a answer) UpdateID() string   { return "" }
func (a answer) Get(_ context.Context, v any) error {
	*v.(*string) = string(a)
	return nil
}

// parkedRecords stores n records parked at revision 2 (and one synced),
// and returns their keys.
func parkedRecords(t *testing.T, db *gorm.DB, n int) []RecordKey {
	t.Helper()
	var keys []RecordKey
	for i := range n + 1 {
		k := RecordKey{Vendor: "autox3", Kind: "reception_order", ExternalID: fmt.Sprint(6400 + i)}
		st := models.RecordState{Vendor: k.Vendor, Kind: k.Kind, ExternalID: k.ExternalID, Version: 10, Revision: 2, SyncedRevision: 1,
			SyncStatus: models.RecordRejected, LastError: "HTTP 422: unknown customer", OccurredAt: time.Now(), Data: `{}`, DataSHA256: "-"}
		if i == n {
			st.SyncedRevision, st.SyncStatus, st.LastError = 2, models.RecordSynced, ""
		} else {
			keys = append(keys, k)
		}
		if err := db.Create(&st).Error; err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// A bulk retry counts first, paces its retries at the rate asked,
// starts a parked record whose workflow is gone, counts a refusal apart
// from a failure, and waits for each outcome: synced, parked again, or
// still being sent. A dry run asks Temporal nothing.
func TestRetryParkedPacesAndSumsUp(t *testing.T) {
	db := testenv.SQLite(t)
	s := store.New(db)
	ctx := context.Background()
	keys := parkedRecords(t, db, 5)
	f := &fakeTemporal{gone: map[string]bool{keys[1].WorkflowID(): true}, refuse: map[string]bool{keys[2].WorkflowID(): true}}
	o := &Ops{Store: s, Temporal: f, Notify: f.notify, Poll: 10 * time.Millisecond}

	var out bytes.Buffer
	sum, err := o.RetryParked(ctx, BulkOptions{Filter: store.ParkedFilter{Vendor: "autox3"}, Rate: 50, DryRun: true, Out: &out})
	if err != nil || sum.Parked != 5 || len(sum.Records) != 5 || sum.Retried+sum.Refused+sum.Failed != 0 || len(f.asked)+len(f.updates)+len(f.notified) != 0 {
		t.Fatalf("dry run: %+v, %v; Temporal asked %d times\n%s", sum, err, len(f.asked)+len(f.updates)+len(f.notified), out.String())
	}
	if !strings.HasPrefix(out.String(), "5 parked records (vendor autox3)\nwould-retry  autox3:reception_order:6400\trevision 2, parked since ") {
		t.Fatalf("dry run printed:\n%s", out.String())
	}

	// What each retry comes to: the first synced, the fourth refused again,
	// the fifth still failing; the second was started (no workflow ran).
	f.then = func(id string) {
		var k RecordKey
		for _, c := range keys {
			if c.WorkflowID() == id {
				k = c
			}
		}
		st, err := s.Record(ctx, k.Vendor, k.Kind, k.ExternalID)
		if err != nil {
			t.Error(err)
			return
		}
		att := models.SyncAttempt{Vendor: k.Vendor, Kind: k.Kind, ExternalID: k.ExternalID, Revision: 2, Version: 10, IdempotencyKey: "k"}
		switch k {
		case keys[0]:
			att.Outcome, att.HTTPStatus = models.AttemptAccepted, 201
			err = s.AddAttempt(ctx, att)
			if err == nil {
				_, _, err = s.MarkSynced(ctx, st)
			}
		case keys[3]:
			att.Outcome, att.HTTPStatus, att.Detail = models.AttemptRejected, 422, "customer blocked"
			err = s.AddAttempt(ctx, att)
		case keys[4]:
			att.Outcome, att.HTTPStatus, att.Detail = models.AttemptRetry, 503, "down"
			if err = s.AddAttempt(ctx, att); err == nil {
				err = s.MarkFailed(ctx, st, models.RecordPending, "HTTP 503: down")
			}
		}
		if err != nil {
			t.Error(err)
		}
	}
	const rate = 20.0
	out.Reset()
	sum, err = o.RetryParked(ctx, BulkOptions{Filter: store.ParkedFilter{Vendor: "autox3"}, Rate: rate, Wait: 300 * time.Millisecond, Reason: "fixed", Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Parked != 5 || sum.Retried != 4 || sum.Refused != 1 || sum.Failed != 0 || sum.Synced != 1 || sum.ParkedAgain != 1 || sum.Sending != 2 {
		t.Fatalf("summary %+v\n%s", sum, out.String())
	}
	if sum.ExitCode() != ExitParked {
		t.Errorf("exit code %d, want %d (parked again)", sum.ExitCode(), ExitParked)
	}
	if len(f.notified) != 1 || f.notified[0] != (flow.NotifyInput{Vendor: "autox3", Kind: "reception_order", ExternalID: keys[1].ExternalID, Revision: 2}) {
		t.Errorf("started %+v, want the record whose workflow was gone, at its revision", f.notified)
	}
	if len(f.asked) != 5 {
		t.Fatalf("looked at %d records, want 5", len(f.asked))
	}
	if spread, want := f.asked[4].Sub(f.asked[0]), time.Duration(4/rate*float64(time.Second)); spread < want-10*time.Millisecond {
		t.Errorf("5 records at %v a second were asked for within %s, want at least %s", rate, spread, want)
	}
	text := out.String()
	for _, want := range []string{
		"5 parked records (vendor autox3)\n",
		"refused      " + keys[2].String() + "\tnothing to retry: record is sending revision 2",
		"retrying     " + keys[1].String() + "\tits record workflow was not running: started it, retrying revision 2",
		"synced       " + keys[0].String() + "\trevision 2 at the ERP",
		"parked       " + keys[3].String() + "\tHTTP 422: customer blocked",
		"sending      " + keys[4].String() + "\tHTTP 503: down",
		"5 parked: 4 retried (1 synced, 1 parked again, 2 still sending), 1 refused, 0 failed\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if _, err := o.RetryParked(ctx, BulkOptions{Rate: 0}); err == nil {
		t.Error("a rate of zero was taken")
	}
}
