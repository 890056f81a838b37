package app

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/ops"
)

func TestOpsArgs(t *testing.T) {
	vendors := []string{"autox3", "fenbeitong"}
	// Flags may come after the names.
	a, err := parseOpsArgs([]string{"retry", "autox3", "msg-1", "--wait", "30s", "--reason", "fixed", "--json"}, vendors, io.Discard)
	if err != nil || a.action != "retry" || a.target.String() != "autox3 event msg-1" || a.wait != 30*time.Second || a.reason != "fixed" || !a.json {
		t.Fatalf("retry: %+v, %v", a, err)
	}
	if a, err := parseOpsArgs([]string{"show", "fenbeitong", "--order", "OC1"}, vendors, io.Discard); err != nil || a.target.String() != "fenbeitong order OC1" {
		t.Fatalf("show --order: %+v, %v", a, err)
	}
	if a, err := parseOpsArgs([]string{"retry", "autox3", "--record", "reception_order:6482"}, vendors, io.Discard); err != nil || a.wait != time.Minute ||
		a.target.Record == nil || a.target.Record.String() != "autox3:reception_order:6482" {
		t.Fatalf("retry --record: %+v, %v", a, err)
	}
	a, err = parseOpsArgs([]string{"retry", "--parked", "--vendor", "autox3", "--kind", "reception_order", "--since", "2025-03-01", "--rate", "2.5", "--dry-run"}, vendors, io.Discard)
	if err != nil || !a.parked || a.bulk.Filter.Vendor != "autox3" || a.bulk.Filter.Kind != "reception_order" ||
		!a.bulk.Filter.Since.Equal(time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)) || a.bulk.Rate != 2.5 || !a.bulk.DryRun || a.bulk.Wait != time.Minute {
		t.Fatalf("retry --parked: %+v, %v", a, err)
	}
	for _, bad := range [][]string{
		{},                               // no action
		{"frob", "autox3", "m"},          // unknown action
		{"show", "autox3"},               // nothing named
		{"show", "sap", "m"},             // unknown vendor
		{"show", "autox3", "m", "extra"}, // too many names
		{"skip", "autox3", "m"},          // a skip needs a reason
		{"retry", "--parked", "--vendor", "sap"},
		{"retry", "--parked", "--rate", "0"},
		{"retry", "--parked", "autox3", "m"},      // --parked names nothing
		{"retry", "--parked", "--since", "later"}, // not a time
		{"retry", "autox3", "m", "--dry-run"},     // --dry-run goes with --parked
		{"show", "autox3", "m", "--wait", "1m"},   // show does not wait
		{"retry", "autox3", "m", "--wait", "-1s"},
	} {
		_, err := parseOpsArgs(bad, vendors, io.Discard)
		if exitCode(err) != 2 {
			t.Errorf("%q: %v (exit %d), want a usage error (exit 2)", bad, err, exitCode(err))
		}
	}
	var help bytes.Buffer
	if _, err := parseOpsArgs([]string{"-h"}, vendors, &help); !errors.Is(err, flag.ErrHelp) || !strings.Contains(help.String(), "Exit status") {
		t.Errorf("-h: %v, %q", err, help.String())
	}
}

// One command's outcomes exit with the worst of them; refused only when
// every record was refused.
func TestOutcomesExitCode(t *testing.T) {
	o := func(result string) ops.Outcome {
		return ops.Outcome{Record: "r", Action: "retry", Result: result, Answer: "nothing to retry: record is synced"}
	}
	for _, tc := range []struct {
		results []string
		want    int
	}{
		{[]string{ops.ResultSynced}, 0},
		{[]string{ops.ResultRetrying, ops.ResultSkipped}, 0},
		{[]string{ops.ResultRefused}, ops.ExitRefused},
		{[]string{ops.ResultRefused, ops.ResultSynced}, 0},
		{[]string{ops.ResultSending, ops.ResultParked, ops.ResultRefused}, ops.ExitParked},
		{[]string{ops.ResultSending, ops.ResultSynced}, ops.ExitSending},
		{[]string{ops.ResultParked, ops.ResultFailed}, 1},
	} {
		var outs []ops.Outcome
		for _, r := range tc.results {
			outs = append(outs, o(r))
		}
		got := 0
		if err := outcomesError(outs); err != nil {
			got = exitCode(err)
		}
		if got != tc.want {
			t.Errorf("%v: exit %d, want %d", tc.results, got, tc.want)
		}
	}
}

// Help needs no configuration.
func TestOpsHelpWithoutConfiguration(t *testing.T) {
	for _, args := range [][]string{{"ops", "-h"}, {"ops", "help"}, {"ops", "retry", "--parked", "--help"}} {
		var out, errOut bytes.Buffer
		if code := Main(args, env(nil), &out, &errOut); code != 0 || !strings.Contains(out.String(), "Exit status") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out.String(), errOut.String())
		}
	}
	var out, errOut bytes.Buffer
	if code := Main([]string{"ops"}, env(nil), &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "erpbridge ops show") {
		t.Errorf("ops alone: exit %d, stderr %q", code, errOut.String())
	}
}
