// Package ops is what `erpbridge ops` does for operators: it finds events
// and records by the vendor's own ids (an AutoX3 msgId, a Fenbeitong order
// id, a record's kind and external id), shows everything erpbridge knows of
// them from the store and from their record workflows, and answers a
// parked record with the record workflow's retry and skip updates, one
// record at a time or all the parked ones at a pace.
//
// It prints to the operator's terminal what the vendor and the ERP said,
// personal data included (operators may read it); it logs none of it, and
// its errors carry none of it.
package ops

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/store"
)

// Exit codes of `erpbridge ops` beyond 0 (done), 1 (an error: not found,
// Temporal or the database unreachable) and 2 (a usage error).
const (
	// ExitRefused: nothing was done, because there was nothing to do: the
	// record is not parked (the record's refusal says why), or a skip
	// found its workflow not running (the message says what to run).
	ExitRefused = 3
	// ExitParked: the retry was sent and the ERP refused the record again;
	// it is parked, with the new reason.
	ExitParked = 4
	// ExitSending: the retry was sent and the record was still being sent
	// (the ERP failing transiently, or slow) when --wait ran out.
	ExitSending = 5
)

// Temporal is what ops needs of a Temporal client; client.Client has it.
type Temporal interface {
	DescribeWorkflow(ctx context.Context, workflowID, runID string) (*client.WorkflowExecutionDescription, error)
	QueryWorkflow(ctx context.Context, workflowID, runID, queryType string, args ...any) (converter.EncodedValue, error)
	UpdateWorkflow(ctx context.Context, options client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error)
}

// Ops answers operators' questions and requests.
type Ops struct {
	Store    *store.Store
	Temporal Temporal
	// Notify tells a record workflow of a revision, starting it when it is
	// not running, as the service does: activities.(*Activities).NotifyRecord.
	Notify func(context.Context, flow.NotifyInput) error
	// Poll is how often a wait for a record's outcome looks again (default 250 ms).
	Poll time.Duration
}

// ErrNotFound says nothing is stored under the name an operator gave.
var ErrNotFound = errors.New("not found")

// RecordKey names one record: vendor, kind, external id.
type RecordKey struct {
	Vendor     string `json:"vendor"`
	Kind       string `json:"kind"`
	ExternalID string `json:"external_id"`
}

// String is the record's name as --record takes it: vendor:kind:external id.
func (k RecordKey) String() string { return k.Vendor + ":" + k.Kind + ":" + k.ExternalID }

// WorkflowID is the id of the record's workflow.
func (k RecordKey) WorkflowID() string { return flow.RecordWorkflowID(k.Vendor, k.Kind, k.ExternalID) }

// Target is what an operator names, by the vendor's ids: one event (an
// AutoX3 msgId or any event key), an order (an external id of any of the
// vendor's kinds: a Fenbeitong order id, an AutoX3 receiveBaseId), or one
// record. Vendor is always set, and exactly one of the others.
type Target struct {
	Vendor   string
	EventKey string
	Order    string
	Record   *RecordKey
}

// String says what t names, for people.
func (t Target) String() string {
	switch {
	case t.Record != nil:
		return "record " + t.Record.String()
	case t.Order != "":
		return t.Vendor + " order " + t.Order
	default:
		return t.Vendor + " event " + t.EventKey
	}
}

// ParseTarget reads how an operator named something: the vendor (may be
// empty when record names it), an event key (AutoX3's msgId), an order id,
// or a record as "<vendor>:<kind>:<external id>" or, with the vendor given,
// "<kind>:<external id>". Exactly one of eventKey, order and record is set.
func ParseTarget(vendor, eventKey, order, record string, vendors []string) (Target, error) {
	named := 0
	for _, s := range []string{eventKey, order, record} {
		if s != "" {
			named++
		}
	}
	if named != 1 {
		return Target{}, errors.New("name one thing: an event (<vendor> <msgId or event key>), an order (<vendor> --order <id>) or a record (--record <vendor>:<kind>:<external id>)")
	}
	if vendor != "" && !slices.Contains(vendors, vendor) {
		return Target{}, fmt.Errorf("unknown vendor %q (vendors: %s)", vendor, strings.Join(vendors, ", "))
	}
	if record != "" {
		k, err := ParseRecord(vendor, record, vendors)
		if err != nil {
			return Target{}, err
		}
		return Target{Vendor: k.Vendor, Record: &k}, nil
	}
	if vendor == "" {
		return Target{}, fmt.Errorf("name the vendor first (%s)", strings.Join(vendors, ", "))
	}
	return Target{Vendor: vendor, EventKey: eventKey, Order: order}, nil
}

// ParseRecord reads a record's name, "<vendor>:<kind>:<external id>", or
// "<kind>:<external id>" when vendor is given. The external id may hold ':'.
func ParseRecord(vendor, name string, vendors []string) (RecordKey, error) {
	first, rest, ok := strings.Cut(name, ":")
	if ok && slices.Contains(vendors, first) {
		if vendor != "" && vendor != first {
			return RecordKey{}, fmt.Errorf("--record %q names vendor %s, not %s", name, first, vendor)
		}
		vendor = first
	} else {
		rest = name
	}
	kind, id, ok := strings.Cut(rest, ":")
	switch {
	case vendor == "":
		return RecordKey{}, fmt.Errorf("--record %q: write it <vendor>:<kind>:<external id> (vendors: %s)", name, strings.Join(vendors, ", "))
	case !ok || kind == "" || id == "":
		return RecordKey{}, fmt.Errorf("--record %q: write it [<vendor>:]<kind>:<external id>, e.g. autox3:reception_order:6482", name)
	}
	return RecordKey{Vendor: vendor, Kind: kind, ExternalID: id}, nil
}

// Workflow is what Temporal says of a record's workflow now.
type Workflow struct {
	ID string `json:"id"`
	// Running: a run is open; the fields below describe it, or the last
	// run when it closed.
	Running bool `json:"running"`
	// Found: the workflow id has a run at all (running or closed).
	Found bool `json:"found"`
	// Execution is the run's status: Running, Completed, Terminated, …
	Execution string `json:"execution,omitempty"`
	// SyncStatus is the run's SyncStatus search attribute.
	SyncStatus string     `json:"sync_status,omitempty"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	ClosedAt   *time.Time `json:"closed_at,omitempty"`
	// Status is the answer of its status query while it runs, decoded with
	// the payload key.
	Status *flow.Status `json:"status,omitempty"`
	// Error is why Temporal could not be asked (the rest is then unknown).
	Error string `json:"error,omitempty"`
}

// parked reports whether the running workflow holds the record parked.
func (w Workflow) parked() bool {
	if !w.Running {
		return false
	}
	if w.Status != nil {
		return w.Status.SyncStatus == string(models.RecordRejected)
	}
	return w.SyncStatus == string(models.RecordRejected)
}

// workflow describes a record workflow and, while it runs, asks its status.
func (o *Ops) workflow(ctx context.Context, id string) Workflow {
	w := Workflow{ID: id}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	d, found, err := o.describe(ctx, id)
	switch {
	case err != nil:
		w.Error = err.Error()
		return w
	case !found:
		return w
	}
	w.Found = true
	w.Running = d.Status == enums.WORKFLOW_EXECUTION_STATUS_RUNNING
	w.Execution = executionName(d.Status)
	w.SyncStatus, _ = d.TypedSearchAttributes.GetKeyword(flow.AttrSyncStatus)
	if !d.WorkflowStartTime.IsZero() {
		t := d.WorkflowStartTime.UTC()
		w.StartedAt = &t
	}
	if d.WorkflowCloseTime != nil && !d.WorkflowCloseTime.IsZero() {
		t := d.WorkflowCloseTime.UTC()
		w.ClosedAt = &t
	}
	if !w.Running {
		return w
	}
	v, err := o.Temporal.QueryWorkflow(ctx, id, "", flow.QueryStatus)
	if err == nil {
		var st flow.Status
		if err = v.Get(&st); err == nil {
			w.Status = &st
		}
	}
	if err != nil {
		w.Error = "status query: " + err.Error()
	}
	return w
}

// describe asks Temporal about the workflow id's run (the running one, else
// the last); found is false when the id has none.
func (o *Ops) describe(ctx context.Context, id string) (d *client.WorkflowExecutionDescription, found bool, err error) {
	d, err = o.Temporal.DescribeWorkflow(ctx, id, "")
	if _, ok := errors.AsType[*serviceerror.NotFound](err); ok {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return d, true, nil
}

// executionName is a workflow execution status as the Web UI names it.
func executionName(s enums.WorkflowExecutionStatus) string {
	name := strings.TrimPrefix(s.String(), "WORKFLOW_EXECUTION_STATUS_")
	name = strings.ReplaceAll(strings.ToLower(name), "_", " ")
	if name == "" {
		return ""
	}
	return strings.ToUpper(name[:1]) + name[1:]
}
