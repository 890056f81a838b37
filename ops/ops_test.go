package ops

import (
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/models"
)

var vendorNames = []string{"autox3", "fenbeitong"}

func TestParseTarget(t *testing.T) {
	for _, tc := range []struct {
		vendor, key, order, record string
		want                       string
	}{
		{"autox3", "6f1c-msg", "", "", "autox3 event 6f1c-msg"},
		{"fenbeitong", "", "OC123", "", "fenbeitong order OC123"},
		{"", "", "", "autox3:reception_order:6482", "record autox3:reception_order:6482"},
		{"autox3", "", "", "reception_order:6482", "record autox3:reception_order:6482"},
		{"autox3", "", "", "autox3:reception_order:6482", "record autox3:reception_order:6482"},
		// An external id may hold ':'.
		{"", "", "", "fenbeitong:car_order:a:b", "record fenbeitong:car_order:a:b"},
		{"fenbeitong", "", "", "car_order:a:b", "record fenbeitong:car_order:a:b"},
	} {
		got, err := ParseTarget(tc.vendor, tc.key, tc.order, tc.record, vendorNames)
		if err != nil || got.String() != tc.want {
			t.Errorf("ParseTarget(%q, %q, %q, %q) = %q, %v; want %q", tc.vendor, tc.key, tc.order, tc.record, got, err, tc.want)
		}
	}
	k, err := ParseTarget("", "", "", "fenbeitong:car_order:a:b", vendorNames)
	if err != nil || *k.Record != (RecordKey{Vendor: "fenbeitong", Kind: "car_order", ExternalID: "a:b"}) || k.Record.WorkflowID() != "record:fenbeitong:car_order:a:b" {
		t.Errorf("record key %+v, %v", k.Record, err)
	}
	for _, bad := range []struct{ vendor, key, order, record, says string }{
		{"autox3", "", "", "", "name one thing"},
		{"autox3", "m", "6482", "", "name one thing"},
		{"", "m", "", "", "name the vendor"},
		{"sap", "m", "", "", `unknown vendor "sap"`},
		{"", "", "", "reception_order:6482", "<vendor>:<kind>:<external id>"},
		{"autox3", "", "", "reception_order", "[<vendor>:]<kind>:<external id>"},
		{"autox3", "", "", "autox3:reception_order:", "[<vendor>:]<kind>:<external id>"},
		{"fenbeitong", "", "", "autox3:reception_order:1", "names vendor autox3, not fenbeitong"},
	} {
		if _, err := ParseTarget(bad.vendor, bad.key, bad.order, bad.record, vendorNames); err == nil || !strings.Contains(err.Error(), bad.says) {
			t.Errorf("ParseTarget(%q, %q, %q, %q) = %v; want an error saying %q", bad.vendor, bad.key, bad.order, bad.record, err, bad.says)
		}
	}
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"autox3:reception_order:6482":      "autox3:reception_order:6482",
		"autox3:maintenance_plan_item:P-1": "autox3:maintenance_plan_item:P-1",
		"a b":                              "'a b'",
		"~0123":                            "'~0123'",
		"it's":                             `'it'\''s'`,
		"$(rm)":                            "'$(rm)'",
		"":                                 "''",
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
}

// A retried record has an outcome once the ERP answered it since the
// retry: accepted (synced), refused (parked again, with the reason) or
// skipped meanwhile; a transient failure is no outcome yet.
func TestSettle(t *testing.T) {
	rejected := models.SyncAttempt{Outcome: models.AttemptRejected, HTTPStatus: 422, Detail: "customer blocked"}
	retry := models.SyncAttempt{Outcome: models.AttemptRetry, HTTPStatus: 503, Detail: "down"}
	accepted := models.SyncAttempt{Outcome: models.AttemptAccepted, HTTPStatus: 201}
	parkedRow := models.RecordState{Revision: 2, SyncedRevision: 1, SyncStatus: models.RecordRejected}
	for _, tc := range []struct {
		name  string
		st    models.RecordState
		since []models.SyncAttempt
		want  string
		why   string
	}{
		{"nothing yet", parkedRow, nil, "", "no answer from the ERP yet"},
		{"failing", models.RecordState{Revision: 2, SyncedRevision: 1, SyncStatus: models.RecordPending}, []models.SyncAttempt{retry}, "", "HTTP 503: down"},
		{"refused again", parkedRow, []models.SyncAttempt{retry, rejected}, ResultParked, "HTTP 422: customer blocked"},
		{"synced", models.RecordState{Revision: 2, SyncedRevision: 2, SyncStatus: models.RecordSynced}, []models.SyncAttempt{retry, accepted}, ResultSynced, "no answer from the ERP yet"},
		{"synced, a newer state on its way", models.RecordState{Revision: 3, SyncedRevision: 2, SyncStatus: models.RecordPending}, []models.SyncAttempt{accepted}, ResultSynced, "no answer from the ERP yet"},
		{"skipped meanwhile", models.RecordState{Revision: 2, SyncedRevision: 2, SyncStatus: models.RecordSkipped}, []models.SyncAttempt{{Outcome: models.AttemptSkipped, Detail: "test"}}, ResultSkipped, "test"},
	} {
		out := Outcome{Result: ResultRetrying, Revision: 2}
		done := settle(&out, tc.st, tc.since)
		if done != (tc.want != "") || done && out.Result != tc.want || out.Why() != tc.why {
			t.Errorf("%s: settled %v as %q (%q); want %q (%q)", tc.name, done, out.Result, out.Why(), tc.want, tc.why)
		}
	}
}

// What an operator is told to do follows the record's state and its
// workflow's, the live one first.
func TestRecordSteps(t *testing.T) {
	const name = "autox3:reception_order:6482"
	rec := func(st State, w Workflow) Record {
		return Record{RecordKey: RecordKey{Vendor: "autox3", Kind: "reception_order", ExternalID: "6482"}, Name: name, State: &st, Workflow: w}
	}
	running := func(status models.RecordStatus) Workflow {
		return Workflow{Found: true, Running: true, SyncStatus: string(status), Status: &flow.Status{SyncStatus: string(status), Revision: 2}}
	}
	retry, skip := "erpbridge ops retry --record "+name, "erpbridge ops skip --record "+name+" --reason '<why>'"
	resend := "erpbridge resend --vendor autox3 --kind reception_order --id 6482"
	for _, tc := range []struct {
		name     string
		r        Record
		says     string
		commands []string
	}{
		{"parked", rec(State{Revision: 2, SyncedRevision: 1, Status: "rejected"}, running(models.RecordRejected)),
			"parked: the ERP refused revision 2", []string{retry, skip}},
		{"parked by the retry budget, the row pending", rec(State{Revision: 2, SyncedRevision: 1, Status: "pending"}, running(models.RecordRejected)),
			"the retry budget ran out", []string{retry, skip}},
		{"parked, the workflow gone", rec(State{Revision: 2, SyncedRevision: 1, Status: "rejected"}, Workflow{Found: true, Execution: "Terminated"}),
			"its record workflow is not running", []string{retry}},
		{"being sent", rec(State{Revision: 2, SyncedRevision: 1, Status: "pending"}, running(models.RecordPending)),
			"being sent: revision 2", []string{"erpbridge ops show --record " + name}},
		{"waiting with no workflow", rec(State{Revision: 2, SyncedRevision: 1, Status: "pending"}, Workflow{}),
			"no record workflow running", []string{resend}},
		{"skipped", rec(State{Revision: 2, SyncedRevision: 2, Status: "skipped", LastError: "skipped: test vehicle"}, Workflow{}),
			"revision 2 was skipped (test vehicle)", nil},
		{"synced", rec(State{Revision: 2, SyncedRevision: 2, SyncedVersion: 9, Status: "synced"}, running(models.RecordSynced)),
			"nothing to do: the ERP accepted revision 2 (version 9)", []string{resend}},
		{"Temporal unreachable", rec(State{Revision: 2, SyncedRevision: 1, Status: "rejected"}, Workflow{Error: "connection refused"}),
			"parked (Temporal could not be asked", []string{retry, skip}},
		{"Temporal unreachable, pending", rec(State{Revision: 2, SyncedRevision: 1, Status: "pending"}, Workflow{Error: "connection refused"}),
			"waiting to send revision 2 (the ERP has revision 1) (Temporal could not be asked", []string{"erpbridge ops show --record " + name}},
	} {
		s := recordSteps(tc.r)
		if !strings.Contains(s.Say, tc.says) || strings.Join(s.Commands, "\n") != strings.Join(tc.commands, "\n") || s.Record != name {
			t.Errorf("%s: %+v; want it to say %q with %q", tc.name, s, tc.says, tc.commands)
		}
	}
}
