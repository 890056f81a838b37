package app

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/erpbridge/erpbridge/config"
	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/store"
)

// resendPageSize is how many records a resend reads at a time.
const resendPageSize = 500

// Resender resends the newest stored state of chosen records through their
// record workflows, the only senders to the ERP: after an ERP restore from
// backup, what the ERP lost comes back under the same Idempotency-Keys (a
// state the ERP still has is answered 409, which counts as done), and a
// newer state arriving meanwhile still wins. See store.MarkForResend.
type Resender struct {
	Store *store.Store
	// Notify tells a record workflow of a revision, starting it when it is
	// not running: activities.(*Activities).NotifyRecord.
	Notify func(context.Context, flow.NotifyInput) error
	// Out receives one line per record: what was done and why.
	Out io.Writer
	// Progress receives a progress line every ProgressEvery and the summary; nil: none.
	Progress      io.Writer
	ProgressEvery time.Duration
	// Concurrency is how many records are handled at once (default 8).
	Concurrency int
	// DryRun lists what would be done and changes nothing.
	DryRun bool

	outMu sync.Mutex
}

// ResendSummary counts what a resend did with the records it chose.
type ResendSummary struct {
	Chosen   int64 // records the filter chose
	Examined int64
	Resent   int64 // synced records sent again
	Pending  int64 // not at the ERP yet: their record workflow was told again
	Held     int64 // rejected or skipped: left to operators
	Failed   int64
}

func (s *ResendSummary) String() string {
	return fmt.Sprintf("%d of %d records: %d resent, %d pending (record workflow told again), %d held for an operator, %d failed",
		atomic.LoadInt64(&s.Examined), s.Chosen, atomic.LoadInt64(&s.Resent), atomic.LoadInt64(&s.Pending),
		atomic.LoadInt64(&s.Held), atomic.LoadInt64(&s.Failed))
}

// Run resends every record f chooses.
func (r *Resender) Run(ctx context.Context, f store.ResendFilter) (ResendSummary, error) {
	var sum ResendSummary
	n, err := r.Store.CountResend(ctx, f)
	if err != nil {
		return sum, err
	}
	sum.Chosen = n
	workers := max(r.Concurrency, 1)
	if r.Concurrency == 0 {
		workers = 8
	}
	records := make(chan store.ResendRecord)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for rec := range records {
				r.one(ctx, rec, &sum)
				atomic.AddInt64(&sum.Examined, 1)
			}
		}()
	}
	stopProgress := r.reportProgress(&sum)
	var listErr error
	var after uint64
	for ctx.Err() == nil {
		page, err := r.Store.ResendPage(ctx, f, after, resendPageSize)
		if err != nil {
			listErr = err
			break
		}
		for _, rec := range page {
			select {
			case records <- rec:
			case <-ctx.Done():
			}
			after = rec.ID
		}
		if len(page) < resendPageSize {
			break
		}
	}
	close(records)
	wg.Wait()
	stopProgress()
	switch {
	case listErr != nil:
		return sum, listErr
	case ctx.Err() != nil:
		return sum, fmt.Errorf("resend interrupted after %s; run it again to finish", sum.String())
	case sum.Failed > 0:
		return sum, fmt.Errorf("%d records failed; run the same resend again to finish them", sum.Failed)
	}
	return sum, nil
}

// one resends one record.
func (r *Resender) one(ctx context.Context, rec store.ResendRecord, sum *ResendSummary) {
	switch {
	case rec.SyncStatus == models.RecordRejected || rec.SyncStatus == models.RecordSkipped:
		atomic.AddInt64(&sum.Held, 1)
		r.line("held", rec, string(rec.SyncStatus)+" at revision "+fmt.Sprint(rec.Revision)+": for an operator (retry or skip), not resent")
		return
	case r.DryRun && rec.Revision > rec.SyncedRevision:
		atomic.AddInt64(&sum.Pending, 1)
		r.line("pending", rec, fmt.Sprintf("revision %d not at the ERP yet (it has %d): would tell its record workflow", rec.Revision, rec.SyncedRevision))
		return
	case r.DryRun:
		atomic.AddInt64(&sum.Resent, 1)
		r.line("would-resend", rec, fmt.Sprintf("version %d", rec.Version))
		return
	}
	rev, raised, err := r.Store.MarkForResend(ctx, rec.ID)
	if err == nil {
		err = r.Notify(ctx, flow.NotifyInput{Vendor: rec.Vendor, Kind: rec.Kind, ExternalID: rec.ExternalID, Revision: rev})
	}
	switch {
	case err != nil:
		atomic.AddInt64(&sum.Failed, 1)
		r.line("failed", rec, err.Error())
	case raised:
		atomic.AddInt64(&sum.Resent, 1)
		r.line("resent", rec, fmt.Sprintf("version %d as revision %d", rec.Version, rev))
	default:
		// Not synced when looked at closely: a newer state (or a send) is
		// under way, and its record workflow has now been told of it.
		atomic.AddInt64(&sum.Pending, 1)
		r.line("pending", rec, fmt.Sprintf("revision %d not at the ERP yet: its record workflow was told again", rev))
	}
}

func (r *Resender) line(what string, rec store.ResendRecord, detail string) {
	r.outMu.Lock()
	defer r.outMu.Unlock()
	fmt.Fprintf(r.Out, "%-12s %s\t%s\n", what, rec.Label(), detail)
}

// reportProgress prints the summary every ProgressEvery until the returned
// stop is called, which prints it a last time.
func (r *Resender) reportProgress(sum *ResendSummary) (stop func()) {
	if r.Progress == nil {
		return func() {}
	}
	every := r.ProgressEvery
	if every <= 0 {
		every = 5 * time.Second
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(finished)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				ex := atomic.LoadInt64(&sum.Examined)
				rate := float64(ex) / time.Since(start).Seconds()
				fmt.Fprintf(r.Progress, "resend: %s (%.0f%%, %.0f records/s)\n", sum.String(), percent(ex, sum.Chosen), rate)
			case <-done:
				fmt.Fprintf(r.Progress, "resend: done in %s: %s\n", time.Since(start).Round(time.Millisecond), sum.String())
				return
			}
		}
	}()
	return func() { close(done); <-finished }
}

func percent(n, of int64) float64 {
	if of == 0 {
		return 100
	}
	return 100 * float64(n) / float64(of)
}

// resendArgs are the flags of `erpbridge resend`.
type resendArgs struct {
	filter      store.ResendFilter
	all         bool
	dryRun      bool
	concurrency int
	progress    time.Duration
}

// parseResendArgs reads the flags; a filter or --all is required so that
// nothing is resent by accident.
func parseResendArgs(args []string, stderr io.Writer) (resendArgs, error) {
	var a resendArgs
	fs := flag.NewFlagSet("erpbridge resend", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: erpbridge resend [flags]

Resends the newest stored state of the chosen records to the ERP through
their record workflows, under the same Idempotency-Keys (a state the ERP
still has is answered 409 and counts as done). Use it after an ERP restore
from backup. Records not yet at the ERP are left to their record workflows
(which are told again), rejected and skipped ones to operators.
Prints one line per record; progress and the summary go to stderr.

flags:
`)
		fs.PrintDefaults()
	}
	fs.StringVar(&a.filter.Vendor, "vendor", "", "only this vendor (autox3, fenbeitong)")
	fs.StringVar(&a.filter.Kind, "kind", "", "only this record kind (reception_order, car_order, ...)")
	fs.Func("id", "only these external ids (comma-separated; repeatable)", func(v string) error {
		a.filter.ExternalIDs = append(a.filter.ExternalIDs, config.SplitList(v)...)
		return nil
	})
	fs.Func("ids-file", "only the external ids in this file, one per line (- for stdin)", func(path string) error {
		ids, err := readIDs(path)
		a.filter.ExternalIDs = append(a.filter.ExternalIDs, ids...)
		return err
	})
	fs.Func("changed-since", "only records last changed at or after this time (RFC 3339, or YYYY-MM-DD[ HH:MM:SS] in UTC)", func(v string) (err error) {
		a.filter.ChangedSince, err = parseTimeFlag(v)
		return err
	})
	fs.Func("changed-before", "only records last changed before this time (same forms)", func(v string) (err error) {
		a.filter.ChangedBefore, err = parseTimeFlag(v)
		return err
	})
	fs.BoolVar(&a.all, "all", false, "every record (required when no other filter is given)")
	fs.BoolVar(&a.dryRun, "dry-run", false, "list what would be done, change nothing")
	fs.IntVar(&a.concurrency, "concurrency", 8, "records handled at once")
	fs.DurationVar(&a.progress, "progress", 5*time.Second, "interval of the progress lines on stderr")
	if err := fs.Parse(args); err != nil {
		return a, err
	}
	if fs.NArg() > 0 {
		return a, fmt.Errorf("unexpected arguments %q (ids go in --id)", fs.Args())
	}
	f := a.filter
	filtered := f.Vendor != "" || f.Kind != "" || len(f.ExternalIDs) > 0 || !f.ChangedSince.IsZero() || !f.ChangedBefore.IsZero()
	if !filtered && !a.all {
		return a, errors.New("choose the records: --vendor, --kind, --id, --ids-file, --changed-since, --changed-before, or --all for every record")
	}
	if a.concurrency < 1 {
		return a, errors.New("--concurrency must be at least 1")
	}
	return a, nil
}

func readIDs(path string) ([]string, error) {
	var r io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	var ids []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if id := strings.TrimSpace(sc.Text()); id != "" && !strings.HasPrefix(id, "#") {
			ids = append(ids, id)
		}
	}
	return ids, sc.Err()
}

// parseTimeFlag reads RFC 3339, or a date with an optional time in UTC.
func parseTimeFlag(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time like 2025-03-01T08:00:00+08:00 or 2025-03-01", v)
}

// runResend is `erpbridge resend`.
func runResend(ctx context.Context, args []string, cfg config.Config, log *slog.Logger, stdout, stderr io.Writer) error {
	a, err := parseResendArgs(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	st, _, notify, closeAll, err := operatorClients(ctx, cfg, log, false)
	if err != nil {
		return err
	}
	defer closeAll()
	r := &Resender{Store: st, Notify: notify, Out: stdout, Progress: stderr,
		ProgressEvery: a.progress, Concurrency: a.concurrency, DryRun: a.dryRun}
	_, err = r.Run(ctx, a.filter)
	return err
}
