package ops

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/vendors"
	"github.com/erpbridge/erpbridge/vendors/fenbeitong"
)

// Limits of what Show lists.
const (
	// maxEvents is how many events of one order or record are listed (the newest).
	maxEvents = 200
	// maxParts is how many parts of a split message are listed, those
	// waiting for an outcome or an operator first; their records are shown.
	maxParts = 20
	// maxAttempts is how many ERP answers of one record are listed (the newest).
	maxAttempts = 20
)

// Report is everything erpbridge knows of what an operator named: its
// events, its records' states, their ERP answers, their workflows, and
// what the operator can do next. It is what `erpbridge ops show` prints,
// and its JSON is the --json document.
type Report struct {
	// Target says what was asked, e.g. "autox3 event <msgId>".
	Target string `json:"target"`
	// Events are the events found, oldest first.
	Events []Event `json:"events"`
	// EventsTotal is how many events there are, when more than Events lists.
	EventsTotal int64 `json:"events_total"`
	// Split summarises the parts of a split message.
	Split *Split `json:"split,omitempty"`
	// Records are the records the events changed, or the record named.
	Records []Record `json:"records"`
	// Next is what the operator can do, with the exact commands.
	Next []Step `json:"next"`
}

// Event is one stored event (a callback, or a part of a split message).
type Event struct {
	Vendor    string `json:"vendor"`
	EventKey  string `json:"event_key"`
	EventType string `json:"event_type"`
	// WorkflowID is the workflow that persists it: its own event workflow,
	// or for a part of a split message the message's.
	WorkflowID string `json:"workflow_id"`
	// Kind and ExternalID name its record once its workflow persisted it.
	Kind       string `json:"kind,omitempty"`
	ExternalID string `json:"external_id,omitempty"`
	Version    int64  `json:"version"`
	// Applied: it became its record's newest state, as Revision.
	Applied  bool   `json:"applied"`
	Revision int64  `json:"revision"`
	Status   string `json:"status"`
	// Detail is the row's sync_detail: the ERP's refusal while parked, a
	// skip's reason, an invalid callback's problem.
	Detail     string     `json:"detail,omitempty"`
	Warnings   []string   `json:"warnings,omitempty"`
	ParentKey  string     `json:"parent_key,omitempty"`
	ReceivedAt time.Time  `json:"received_at"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	SyncedAt   *time.Time `json:"synced_at,omitempty"`
}

// Split summarises the parts a split message became.
type Split struct {
	Parts    int64            `json:"parts"`
	ByStatus map[string]int64 `json:"by_status"`
	// Shown lists some of them, those waiting for an outcome or an operator first.
	Shown []Event `json:"shown"`
}

// Record is one record: its stored state, the ERP's answers, its workflow.
type Record struct {
	RecordKey
	// Name is the record as --record takes it.
	Name string `json:"name"`
	// State is its row; nil when none is stored (yet).
	State *State `json:"state"`
	// Attempts are the ERP's answers to its sends, oldest first (the newest
	// when there are more than AttemptsTotal).
	Attempts      []Attempt `json:"attempts"`
	AttemptsTotal int64     `json:"attempts_total"`
	Workflow      Workflow  `json:"workflow"`
}

// State is a record's row in record_states.
type State struct {
	Version        int64      `json:"version"`
	Revision       int64      `json:"revision"`
	SyncedRevision int64      `json:"synced_revision"`
	SyncedVersion  int64      `json:"synced_version"`
	Status         string     `json:"status"`
	LastError      string     `json:"last_error,omitempty"`
	SyncedAt       *time.Time `json:"synced_at,omitempty"`
	UpdatedAt      time.Time  `json:"updated_at"`
}

// Attempt is one answer of the ERP to a send of the record (or an operator's skip).
type Attempt struct {
	At         time.Time `json:"at"`
	Revision   int64     `json:"revision"`
	Version    int64     `json:"version"`
	Outcome    string    `json:"outcome"`
	HTTPStatus int       `json:"http_status"`
	// Detail is the ERP's answer (a refusal's message), or a skip's reason.
	Detail string `json:"detail,omitempty"`
}

// Step is one thing an operator can do next.
type Step struct {
	// Record names the record the step is about, when there is one.
	Record string `json:"record,omitempty"`
	// Say explains the situation and the step.
	Say string `json:"say"`
	// Commands are the exact commands that take it, if any.
	Commands []string `json:"commands,omitempty"`
}

// Show finds what t names and reports it. It fails with ErrNotFound when
// nothing is stored under that name.
func (o *Ops) Show(ctx context.Context, t Target) (*Report, error) {
	rep := &Report{Target: t.String(), Events: []Event{}, Records: []Record{}, Next: []Step{}}
	keys, err := o.find(ctx, t, rep)
	if err != nil {
		return nil, err
	}
	var unreachable string
	for _, k := range keys {
		r, found, err := o.record(ctx, k)
		if err != nil {
			return nil, err
		}
		if t.Record != nil && !found && len(rep.Events) == 0 {
			return nil, fmt.Errorf("%w: no record %s is stored", ErrNotFound, k)
		}
		if unreachable != "" {
			r.Workflow = Workflow{ID: k.WorkflowID(), Error: unreachable}
		} else {
			r.Workflow = o.workflow(ctx, k.WorkflowID())
			if w := r.Workflow; w.Error != "" && !w.Found {
				// Temporal did not answer: the other records are shown from
				// the database alone, without waiting for it again.
				unreachable = w.Error
			}
		}
		rep.Records = append(rep.Records, r)
	}
	rep.Next = nextSteps(rep)
	return rep, nil
}

// find fills in the events t names and returns the records they concern.
// A record named is returned whether it is stored or not: Show looks.
func (o *Ops) find(ctx context.Context, t Target, rep *Report) ([]RecordKey, error) {
	switch {
	case t.Record != nil:
		k := *t.Record
		evs, total, err := o.Store.EventsOfRecord(ctx, k.Vendor, []string{k.Kind}, k.ExternalID, maxEvents)
		if err != nil {
			return nil, err
		}
		rep.Events, rep.EventsTotal = eventsOf(evs), total
		return []RecordKey{k}, nil

	case t.Order != "":
		return o.findOrder(ctx, t, rep)

	default:
		ev, found, err := o.Store.Event(ctx, t.Vendor, t.EventKey)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, fmt.Errorf("%w: no %s event %q is stored (an AutoX3 event is named by its msgId; for a Fenbeitong order use --order)", ErrNotFound, t.Vendor, t.EventKey)
		}
		rep.Events, rep.EventsTotal = eventsOf([]models.InboundEvent{ev}), 1
		if ev.SyncStatus == models.EventSplit {
			parts, err := o.Store.EventParts(ctx, t.Vendor, t.EventKey, maxParts)
			if err != nil {
				return nil, err
			}
			rep.Split = &Split{Parts: parts.Total, ByStatus: map[string]int64{}, Shown: eventsOf(parts.Shown)}
			for s, n := range parts.ByStatus {
				rep.Split.ByStatus[string(s)] = n
			}
			return recordsOf(parts.Shown, func(models.InboundEvent) bool { return true }), nil
		}
		if k, ok := recordOf(ev); ok {
			return []RecordKey{k}, nil
		}
		return nil, nil
	}
}

// findOrder finds the records of a vendor's order id, of any kind, and
// their events; for Fenbeitong also the pushes of the order not persisted
// yet, whose event keys name the order.
func (o *Ops) findOrder(ctx context.Context, t Target, rep *Report) ([]RecordKey, error) {
	kinds, keys, err := o.orderRecords(ctx, t.Vendor, t.Order)
	if err != nil {
		return nil, err
	}
	evs, total, err := o.Store.EventsOfRecord(ctx, t.Vendor, kinds, t.Order, maxEvents)
	if err != nil {
		return nil, err
	}
	if t.Vendor == vendors.Fenbeitong {
		waiting, err := o.Store.UnpersistedEvents(ctx, t.Vendor, ":"+t.Order+":", maxEvents)
		if err != nil {
			return nil, err
		}
		for _, ev := range waiting {
			if _, order, _, ok := fenbeitong.ParseEventKey(ev.EventKey); ok && order == t.Order {
				evs = append(evs, ev)
				total++
			}
		}
		slices.SortFunc(evs, func(a, b models.InboundEvent) int { return cmp.Compare(a.ID, b.ID) })
	}
	if len(keys) == 0 && len(evs) == 0 {
		return nil, fmt.Errorf("%w: no %s record or event of order %q is stored", ErrNotFound, t.Vendor, t.Order)
	}
	rep.Events, rep.EventsTotal = eventsOf(evs), total
	return keys, nil
}

// orderRecords lists the record kinds a vendor has records of, and its
// records of those kinds whose external id is order, in kind order.
func (o *Ops) orderRecords(ctx context.Context, vendor, order string) (kinds []string, keys []RecordKey, err error) {
	if kinds, err = o.Store.VendorKinds(ctx, vendor); err != nil {
		return nil, nil, err
	}
	rows, err := o.Store.RecordsByExternalID(ctx, vendor, kinds, order)
	if err != nil {
		return nil, nil, err
	}
	for _, r := range rows {
		keys = append(keys, RecordKey{Vendor: r.Vendor, Kind: r.Kind, ExternalID: r.ExternalID})
	}
	return kinds, keys, nil
}

// recordOf is the record an event was persisted into, if any.
func recordOf(ev models.InboundEvent) (RecordKey, bool) {
	switch ev.SyncStatus {
	case models.EventReceived, models.EventInvalid, models.EventSplit:
		return RecordKey{}, false
	}
	if ev.Kind == "" || ev.ExternalID == "" {
		return RecordKey{}, false
	}
	return RecordKey{Vendor: ev.Vendor, Kind: ev.Kind, ExternalID: ev.ExternalID}, true
}

// record gathers what the store knows of one record, its state and its
// attempts (its workflow is Show's to ask); found says whether its row
// is stored.
func (o *Ops) record(ctx context.Context, k RecordKey) (r Record, found bool, err error) {
	r = Record{RecordKey: k, Name: k.String(), Attempts: []Attempt{}}
	st, found, err := o.Store.FindRecord(ctx, k.Vendor, k.Kind, k.ExternalID)
	if err != nil {
		return r, false, err
	}
	if found && st.Version >= 0 {
		r.State = stateOf(st)
	}
	atts, total, err := o.Store.RecordAttempts(ctx, k.Vendor, k.Kind, k.ExternalID, maxAttempts)
	if err != nil {
		return r, false, err
	}
	r.AttemptsTotal = total
	for _, a := range atts {
		r.Attempts = append(r.Attempts, Attempt{At: a.CreatedAt.UTC(), Revision: a.Revision, Version: a.Version,
			Outcome: string(a.Outcome), HTTPStatus: a.HTTPStatus, Detail: a.Detail})
	}
	return r, found, nil
}

func stateOf(st models.RecordState) *State {
	return &State{Version: st.Version, Revision: st.Revision, SyncedRevision: st.SyncedRevision, SyncedVersion: st.SyncedVersion,
		Status: string(st.SyncStatus), LastError: st.LastError, SyncedAt: utc(st.SyncedAt), UpdatedAt: st.UpdatedAt.UTC()}
}

func eventsOf(rows []models.InboundEvent) []Event {
	out := make([]Event, 0, len(rows))
	for _, ev := range rows {
		e := Event{Vendor: ev.Vendor, EventKey: ev.EventKey, EventType: ev.EventType, WorkflowID: ev.WorkflowID,
			Version: ev.Version, Applied: ev.Applied, Revision: ev.Revision, Status: string(ev.SyncStatus), Detail: ev.SyncDetail,
			ParentKey: ev.ParentKey, ReceivedAt: ev.ReceivedAt.UTC(), StartedAt: utc(ev.StartedAt), SyncedAt: utc(ev.SyncedAt)}
		if ev.Kind != "" && ev.SyncStatus != models.EventInvalid && ev.SyncStatus != models.EventSplit {
			e.Kind, e.ExternalID = ev.Kind, ev.ExternalID
		}
		if ev.Warnings != "" {
			_ = json.Unmarshal([]byte(ev.Warnings), &e.Warnings)
		}
		out = append(out, e)
	}
	return out
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// maxTargets is how many parked parts of one split message a retry names.
const maxTargets = 1000

// Records resolves t to the records an operator's retry or skip acts on:
// the record named; the record of the event named; the parked records of
// a split message's parts; the records of an order, of any kind. It fails
// with ErrNotFound when nothing is stored under that name.
func (o *Ops) Records(ctx context.Context, t Target) ([]RecordKey, error) {
	switch {
	case t.Record != nil:
		return []RecordKey{*t.Record}, nil
	case t.Order != "":
		_, keys, err := o.orderRecords(ctx, t.Vendor, t.Order)
		if err != nil {
			return nil, err
		}
		if len(keys) == 0 {
			return nil, fmt.Errorf("%w: no %s record of order %q is stored", ErrNotFound, t.Vendor, t.Order)
		}
		return keys, nil
	}
	ev, found, err := o.Store.Event(ctx, t.Vendor, t.EventKey)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%w: no %s event %q is stored", ErrNotFound, t.Vendor, t.EventKey)
	}
	if ev.SyncStatus == models.EventSplit {
		parts, err := o.Store.EventParts(ctx, t.Vendor, t.EventKey, maxTargets)
		if err != nil {
			return nil, err
		}
		return recordsOf(parts.Shown, func(p models.InboundEvent) bool { return p.SyncStatus == models.EventRejected }), nil
	}
	k, ok := recordOf(ev)
	if !ok {
		return nil, fmt.Errorf("%w: %s event %q names no record (it is %s)", ErrNotFound, t.Vendor, t.EventKey, ev.SyncStatus)
	}
	return []RecordKey{k}, nil
}

// recordsOf is the records that the events keep chooses name, each once,
// in the events' order.
func recordsOf(events []models.InboundEvent, keep func(models.InboundEvent) bool) []RecordKey {
	var keys []RecordKey
	for _, ev := range events {
		if k, ok := recordOf(ev); ok && keep(ev) && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}
