package app

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/erpbridge/erpbridge/config"
	"github.com/erpbridge/erpbridge/ops"
	"github.com/erpbridge/erpbridge/vendors/registry"
)

// exitError is an error that stands for an exit status other than 1.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// exitCode is the exit status of a command that failed with err: an
// exitError's, else 1.
func exitCode(err error) int {
	if e, ok := errors.AsType[*exitError](err); ok {
		return e.code
	}
	return 1
}

// usageError is a command line ops cannot read: exit status 2.
func usageError(format string, args ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, args...)}
}

const opsUsage = `usage:
  erpbridge ops show  <vendor> <msgId or event key>        [--json]
  erpbridge ops show  <vendor> --order <order id>          [--json]
  erpbridge ops show  --record <vendor>:<kind>:<external id> [--json]
  erpbridge ops retry <the same names>  [--wait 1m] [--reason text] [--json]
  erpbridge ops skip  <the same names>  --reason text [--json]
  erpbridge ops retry --parked [--vendor v] [--kind k] [--since time] [--rate 5] [--dry-run] [--wait 1m] [--reason text] [--json]

Finds events and records by the vendor's own ids and answers parked
records through their record workflows (the retry and skip updates).
A record may also be named <kind>:<external id> after the vendor:
  erpbridge ops show autox3 --record reception_order:6482

flags (before or after the names):
  --order <id>       the records of that external id, of any kind, and their events
  --record <name>    one record
  --json             one JSON document on stdout instead of text
  --reason <text>    retry, skip: why (recorded with a skip; required there)
  --wait <duration>  retry: how long to wait for the outcome (default 1m; 0: do not wait)
  --parked           retry: every parked record --vendor, --kind and --since choose
  --since <time>     RFC 3339, or YYYY-MM-DD[ HH:MM:SS] in UTC: parked at or after it
  --rate <n>         retry --parked: records per second at most (default 5)
  --dry-run          retry --parked: list the records, send nothing

Exit status: 0 done; 1 an error (not found, Temporal or the database did
not answer, a record of a bulk retry failed); 2 a usage error; 3 nothing
to do (the record is not parked: the refusal says why); 4 retried and
parked again (the ERP refused it again); 5 retried and still being sent
when --wait ran out.

It prints what the vendor and the ERP said (personal data included) to
stdout, for the operator; it logs none of it.
See docs/operations.md, "erpbridge ops".
`

// opsHelp answers a command line that asks for help, or names no action,
// before any configuration is read: done is false for any other.
func opsHelp(args []string, stdout, stderr io.Writer) (code int, done bool) {
	if len(args) == 0 {
		fmt.Fprint(stderr, opsUsage)
		return 2, true
	}
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" || a == "help" && a == args[0] {
			fmt.Fprint(stdout, opsUsage)
			return 0, true
		}
	}
	return 0, false
}

// opsArgs are the command line of `erpbridge ops`.
type opsArgs struct {
	action string // show, retry, skip
	target ops.Target
	json   bool
	reason string
	wait   time.Duration
	// bulk retry
	parked bool
	bulk   ops.BulkOptions
}

// parseOpsArgs reads the command line; vendors are the vendor names.
func parseOpsArgs(args []string, vendors []string, stderr io.Writer) (opsArgs, error) {
	var a opsArgs
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, opsUsage)
		if len(args) == 0 {
			return a, usageError("name an action: show, retry or skip")
		}
		return a, flag.ErrHelp
	}
	a.action = args[0]
	if !slices.Contains([]string{"show", "retry", "skip"}, a.action) {
		fmt.Fprint(stderr, opsUsage)
		return a, usageError("unknown action %q: show, retry or skip", a.action)
	}
	fs := flag.NewFlagSet("erpbridge ops "+a.action, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, opsUsage) }
	var order, record, vendorFlag, since string
	fs.StringVar(&order, "order", "", "an order id: the records of that external id, of any kind (a Fenbeitong order_id, an AutoX3 receiveBaseId)")
	fs.StringVar(&record, "record", "", "one record: <vendor>:<kind>:<external id>, or <kind>:<external id> after the vendor")
	fs.BoolVar(&a.json, "json", false, "print one JSON document instead of text")
	if a.action != "show" {
		fs.StringVar(&a.reason, "reason", "", "why (recorded with a skip; required for skip)")
	}
	if a.action == "retry" {
		fs.DurationVar(&a.wait, "wait", time.Minute, "how long to wait for the record to reach the ERP or park again (0: do not wait)")
		fs.BoolVar(&a.parked, "parked", false, "retry every parked record (narrow with --vendor, --kind, --since)")
		fs.StringVar(&vendorFlag, "vendor", "", "with --parked: only this vendor's records")
		fs.StringVar(&a.bulk.Filter.Kind, "kind", "", "with --parked: only records of this kind")
		fs.StringVar(&since, "since", "", "with --parked: only records parked at or after this time (RFC 3339, or YYYY-MM-DD[ HH:MM:SS] in UTC)")
		fs.Float64Var(&a.bulk.Rate, "rate", 5, "with --parked: records retried per second at most")
		fs.BoolVar(&a.bulk.DryRun, "dry-run", false, "with --parked: list the records that would be retried; send nothing")
	}
	pos, err := parseInterleaved(fs, args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return a, err
		}
		return a, &exitError{code: 2, err: err}
	}
	if a.parked {
		if len(pos) > 0 || order != "" || record != "" {
			return a, usageError("--parked chooses records by --vendor, --kind and --since; it names no event, order or record")
		}
		if vendorFlag != "" && !slices.Contains(vendors, vendorFlag) {
			return a, usageError("unknown vendor %q (vendors: %s)", vendorFlag, strings.Join(vendors, ", "))
		}
		if since != "" {
			if a.bulk.Filter.Since, err = parseTimeFlag(since); err != nil {
				return a, usageError("--since: %v", err)
			}
		}
		if a.bulk.Rate <= 0 {
			return a, usageError("--rate must be above zero")
		}
		a.bulk.Filter.Vendor, a.bulk.Reason, a.bulk.Wait = vendorFlag, a.reason, a.wait
		return a, nil
	}
	if vendorFlag != "" || a.bulk.Filter.Kind != "" || since != "" || a.bulk.DryRun {
		return a, usageError("--vendor, --kind, --since and --dry-run go with --parked")
	}
	if len(pos) > 2 {
		return a, usageError("unexpected arguments %q", pos[2:])
	}
	var vendor, eventKey string
	if len(pos) > 0 {
		vendor = pos[0]
	}
	if len(pos) > 1 {
		eventKey = pos[1]
	}
	if a.target, err = ops.ParseTarget(vendor, eventKey, order, record, vendors); err != nil {
		return a, &exitError{code: 2, err: err}
	}
	if a.action == "skip" && strings.TrimSpace(a.reason) == "" {
		return a, usageError("skip needs --reason: it is recorded with the skipped state")
	}
	if a.wait < 0 {
		return a, usageError("--wait must not be negative")
	}
	return a, nil
}

// runOps is `erpbridge ops`.
func runOps(ctx context.Context, args []string, cfg config.Config, log *slog.Logger, stdout, stderr io.Writer) error {
	reg, err := registry.New(cfg)
	if err != nil {
		return err
	}
	a, err := parseOpsArgs(args, reg.Names(), stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	// show still reports what the database knows while Temporal is
	// unreachable; retry and skip need it, and say so before they start.
	st, c, notify, closeAll, err := operatorClients(ctx, cfg, log, a.action == "show")
	if err != nil {
		return err
	}
	defer closeAll()
	o := &ops.Ops{Store: st, Temporal: c, Notify: notify}
	return runOpsAction(ctx, o, a, stdout)
}

// runOpsAction does what a parsed `erpbridge ops` command line asks.
func runOpsAction(ctx context.Context, o *ops.Ops, a opsArgs, stdout io.Writer) error {
	switch {
	case a.action == "show":
		rep, err := o.Show(ctx, a.target)
		if err != nil {
			return err
		}
		if a.json {
			return writeJSON(stdout, rep)
		}
		return rep.WriteText(stdout)

	case a.parked:
		var text io.Writer = stdout
		if a.json {
			text = nil
		}
		a.bulk.Out = text
		sum, err := o.RetryParked(ctx, a.bulk)
		if a.json {
			if jerr := writeJSON(stdout, sum); err == nil {
				err = jerr
			}
		}
		if err != nil {
			return err
		}
		if code := sum.ExitCode(); code != 0 {
			return &exitError{code: code, err: errors.New(sum.String())}
		}
		return nil
	}

	keys, err := o.Records(ctx, a.target)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return &exitError{code: ops.ExitRefused, err: fmt.Errorf("nothing to %s: no record of %s is parked", a.action, a.target)}
	}
	if a.action == "skip" && len(keys) > 1 {
		names := make([]string, len(keys))
		for i, k := range keys {
			names[i] = "  erpbridge ops skip --record " + ops.Quote(k.String()) + " --reason '<why>'"
		}
		return usageError("%s names %d records; skip them one at a time:\n%s", a.target, len(keys), strings.Join(names, "\n"))
	}
	var outcomes []ops.Outcome
	var runErr error
	for _, k := range keys {
		var out ops.Outcome
		if a.action == "skip" {
			out, err = o.Skip(ctx, k, a.reason)
		} else {
			out, err = o.Retry(ctx, k, a.reason)
			if err == nil && out.Result == ops.ResultRetrying && a.wait > 0 {
				if !a.json {
					writeOutcome(stdout, out)
					fmt.Fprintf(stdout, "waiting up to %s for the ERP…\n", a.wait)
				}
				out, err = o.Await(ctx, k, out, a.wait)
			}
		}
		outcomes = append(outcomes, out)
		if !a.json {
			writeOutcome(stdout, out)
		}
		if err != nil && runErr == nil {
			runErr = err
		}
	}
	if a.json {
		doc := struct {
			Target   string        `json:"target"`
			Outcomes []ops.Outcome `json:"outcomes"`
		}{a.target.String(), outcomes}
		if err := writeJSON(stdout, doc); err != nil && runErr == nil {
			runErr = err
		}
	}
	if runErr != nil {
		return runErr
	}
	return outcomesError(outcomes)
}

// outcomesError is the error, and so the exit status, of the outcomes of
// one command: the worst of them; refused only when every one was.
func outcomesError(outcomes []ops.Outcome) error {
	worst, refused := 0, 0
	var why string
	for _, o := range outcomes {
		code := o.ExitCode()
		switch {
		case code == ops.ExitRefused:
			refused++
			why = o.Answer
		case severity(code) > severity(worst):
			worst, why = code, summary(o)
		}
	}
	switch {
	case worst != 0:
		return &exitError{code: worst, err: errors.New(why)}
	case refused == len(outcomes) && refused > 0:
		return &exitError{code: ops.ExitRefused, err: errors.New(why)}
	}
	return nil
}

// severity orders exit statuses: a failure, then parked again, then still sending.
func severity(code int) int {
	switch code {
	case 1:
		return 3
	case ops.ExitParked:
		return 2
	case ops.ExitSending:
		return 1
	}
	return 0
}

// summary says what an outcome came to without the ERP's words, which may
// hold personal data: those are printed on stdout, for the operator.
func summary(o ops.Outcome) string {
	switch o.Result {
	case ops.ResultParked:
		return fmt.Sprintf("%s: retried, and the ERP refused it again (HTTP %d): parked", o.Record, o.HTTPStatus)
	case ops.ResultSending:
		return fmt.Sprintf("%s: retried, and still being sent when the wait ran out", o.Record)
	}
	return fmt.Sprintf("%s: %s failed", o.Record, o.Action)
}

// writeOutcome prints one record's outcome for people.
func writeOutcome(w io.Writer, o ops.Outcome) {
	switch o.Result {
	case ops.ResultRefused:
		fmt.Fprintf(w, "%s %s: refused: %s\n", o.Action, o.Record, o.Answer)
	case ops.ResultFailed:
		fmt.Fprintf(w, "%s %s: failed: %s\n", o.Action, o.Record, o.Error)
	case ops.ResultRetrying, ops.ResultSkipped:
		fmt.Fprintf(w, "%s %s: %s\n", o.Action, o.Record, o.Answer)
	case ops.ResultSynced:
		fmt.Fprintf(w, "synced: the ERP has revision %d of %s\n", o.Revision, o.Record)
	case ops.ResultParked:
		fmt.Fprintf(w, "parked again: the ERP refused revision %d of %s: %s\n", o.Revision, o.Record, o.Why())
		fmt.Fprintf(w, "see: erpbridge ops show --record %s\n", ops.Quote(o.Record))
	case ops.ResultSending:
		fmt.Fprintf(w, "still sending revision %d of %s when the wait ran out; the last failure: %s\n", o.Revision, o.Record, o.Why())
		fmt.Fprintf(w, "look again: erpbridge ops show --record %s\n", ops.Quote(o.Record))
	}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
