package ops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/store"
)

// parkedPageSize is how many parked records a bulk retry reads at a time.
const parkedPageSize = 500

// bulkConcurrency bounds the retries in flight at once; the pace is Rate's.
const bulkConcurrency = 8

// BulkOptions are the settings of a bulk retry of parked records.
type BulkOptions struct {
	// Filter chooses the parked records (their row says rejected).
	Filter store.ParkedFilter
	// Rate is how many records are retried per second at most, so that an
	// ERP that has just come back is not flooded (must be above zero).
	Rate float64
	// DryRun lists the records that would be retried and changes nothing:
	// no update is sent.
	DryRun bool
	// Reason is recorded with each retry (optional).
	Reason string
	// Wait is how long, once every record was retried, to wait for their
	// outcomes (none when zero).
	Wait time.Duration
	// Out receives the count first, then one line per record, then the
	// summary; nil: nothing is printed.
	Out io.Writer
}

// BulkSummary is what a bulk retry did.
type BulkSummary struct {
	// Parked is how many parked records the filter chose, counted first.
	Parked int64 `json:"parked"`
	// Retried records were taken by their workflow (or their workflow was
	// started); Refused ones had nothing to retry by then; Failed ones
	// could not be asked.
	Retried int `json:"retried"`
	Refused int `json:"refused"`
	Failed  int `json:"failed"`
	// What the retried ones came to when the wait ended.
	Synced      int `json:"synced"`
	ParkedAgain int `json:"parked_again"`
	Sending     int `json:"sending"`
	// Records are the outcomes, one per record, in the order they were retried.
	Records []Outcome `json:"records"`
	// DryRun: nothing was sent; Records lists what would have been retried.
	DryRun bool `json:"dry_run,omitempty"`
}

// String is the summary for people.
func (s BulkSummary) String() string {
	if s.DryRun {
		return fmt.Sprintf("dry run: %d parked records would be retried; nothing was sent", len(s.Records))
	}
	return fmt.Sprintf("%d parked: %d retried (%d synced, %d parked again, %d still sending), %d refused, %d failed",
		s.Parked, s.Retried, s.Synced, s.ParkedAgain, s.Sending, s.Refused, s.Failed)
}

// ExitCode is the exit status of `erpbridge ops retry --parked`: 1 when
// any record failed, else ExitParked when any parked again, else
// ExitSending when any was still being sent, else 0. Refusals (a record
// retried or skipped by someone else meanwhile) are not failures.
func (s BulkSummary) ExitCode() int {
	switch {
	case s.Failed > 0:
		return 1
	case s.ParkedAgain > 0:
		return ExitParked
	case s.Sending > 0:
		return ExitSending
	}
	return 0
}

// RetryParked retries every parked record opts.Filter chooses, at most
// opts.Rate a second, through their record workflows (see Retry), then
// waits up to opts.Wait for their outcomes. It prints the count first.
// The error is for what stopped the run (the database did not answer,
// ctx ended); a record that fails is counted and the run goes on.
func (o *Ops) RetryParked(ctx context.Context, opts BulkOptions) (BulkSummary, error) {
	sum := BulkSummary{DryRun: opts.DryRun, Records: []Outcome{}}
	if opts.Rate <= 0 {
		return sum, errors.New("the rate must be above zero records per second")
	}
	out := opts.Out
	if out == nil {
		out = io.Discard
	}
	n, err := o.Store.CountParked(ctx, opts.Filter)
	if err != nil {
		return sum, err
	}
	sum.Parked = n
	fmt.Fprintf(out, "%d parked records%s\n", n, describeFilter(opts.Filter))
	mark, err := o.Store.LastAttemptID(ctx)
	if err != nil {
		return sum, err
	}

	limiter := rate.NewLimiter(rate.Limit(opts.Rate), 1)
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		slots   = make(chan struct{}, bulkConcurrency)
		ids     = map[string]uint64{} // record name → row id; this loop's alone, read after wg.Wait
		runErr  error
		after   uint64
		started = time.Now()
	)
	record := func(o Outcome) {
		mu.Lock()
		defer mu.Unlock()
		sum.Records = append(sum.Records, o)
		switch o.Result {
		case ResultRetrying:
			sum.Retried++
		case ResultRefused:
			sum.Refused++
		case ResultFailed:
			sum.Failed++
		}
		line(out, o)
	}
pages:
	for {
		page, err := o.Store.ParkedPage(ctx, opts.Filter, after, parkedPageSize)
		if err != nil {
			runErr = err
			break
		}
		for _, st := range page {
			after = st.ID
			k := RecordKey{Vendor: st.Vendor, Kind: st.Kind, ExternalID: st.ExternalID}
			if opts.DryRun {
				record(Outcome{Record: k.String(), Action: flow.UpdateRetry, Result: ResultWouldRetry, Revision: st.Revision,
					Answer: fmt.Sprintf("revision %d, parked since %s", st.Revision, stamp(st.UpdatedAt)), Reason: st.LastError})
				continue
			}
			if err := limiter.Wait(ctx); err != nil {
				runErr = err
				break pages
			}
			ids[k.String()] = st.ID
			slots <- struct{}{}
			wg.Go(func() {
				defer func() { <-slots }()
				res, _ := o.retry(ctx, k, opts.Reason)
				record(res)
			})
		}
		if len(page) < parkedPageSize {
			break
		}
	}
	wg.Wait()
	if opts.DryRun {
		fmt.Fprintln(out, sum.String())
		return sum, runErr
	}
	if runErr == nil && opts.Wait > 0 && sum.Retried > 0 {
		fmt.Fprintf(out, "retried %d in %s; waiting up to %s for their outcomes\n", sum.Retried, time.Since(started).Round(time.Millisecond), opts.Wait)
		runErr = o.awaitAll(ctx, &sum, ids, mark, opts.Wait, out)
	}
	fmt.Fprintln(out, sum.String())
	return sum, runErr
}

// awaitAll waits up to wait for the retried records of sum to reach the
// ERP or be parked again, printing each outcome as it comes; those still
// being sent when the wait ends are counted as such.
func (o *Ops) awaitAll(ctx context.Context, sum *BulkSummary, ids map[string]uint64, mark uint64, wait time.Duration, out io.Writer) error {
	// One look at every record costs more than a look at one.
	poll := 4 * o.poll()
	waiting := map[uint64]int{} // row id → index in sum.Records
	wanted := map[string]bool{} // their names
	for i, r := range sum.Records {
		if r.Result != ResultRetrying {
			continue
		}
		waiting[ids[r.Record]] = i
		wanted[r.Record] = true
	}
	since := map[RecordKey][]models.SyncAttempt{}
	seen := mark
	deadline := time.Now().Add(wait)
	for len(waiting) > 0 {
		for {
			atts, err := o.Store.AttemptsSince(ctx, seen, 1000)
			if err != nil {
				return err
			}
			for _, a := range atts {
				if k := (RecordKey{Vendor: a.Vendor, Kind: a.Kind, ExternalID: a.ExternalID}); wanted[k.String()] {
					since[k] = []models.SyncAttempt{a} // settle reads the newest answer only
				}
				seen = a.ID
			}
			if len(atts) < 1000 {
				break
			}
		}
		rowIDs := make([]uint64, 0, len(waiting))
		for id := range waiting {
			rowIDs = append(rowIDs, id)
		}
		rows, err := o.Store.RecordsByID(ctx, rowIDs)
		if err != nil {
			return err
		}
		for _, st := range rows {
			i := waiting[st.ID]
			r := &sum.Records[i]
			k := RecordKey{Vendor: st.Vendor, Kind: st.Kind, ExternalID: st.ExternalID}
			if !settle(r, st, since[k]) {
				continue
			}
			delete(waiting, st.ID)
			switch r.Result {
			case ResultSynced:
				sum.Synced++
			case ResultParked:
				sum.ParkedAgain++
			}
			line(out, *r)
		}
		if len(waiting) == 0 || !time.Now().Add(poll).Before(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
		}
	}
	for _, i := range waiting {
		r := &sum.Records[i]
		r.Result = ResultSending
		sum.Sending++
		line(out, *r)
	}
	return nil
}

// line prints one record's outcome.
func line(w io.Writer, o Outcome) {
	text := o.Answer
	switch o.Result {
	case ResultFailed:
		text = o.Error
	case ResultSynced:
		text = fmt.Sprintf("revision %d at the ERP", o.Revision)
	case ResultParked, ResultSending:
		text = o.Why()
	}
	if o.Result == ResultWouldRetry && o.Reason != "" {
		text += ": " + short(o.Reason, 160)
	}
	fmt.Fprintf(w, "%-12s %s\t%s\n", o.Result, o.Record, text)
}

// Why is the ERP's last answer to a record that was retried and parked
// again, or is still being sent.
func (o Outcome) Why() string {
	status := fmt.Sprintf("HTTP %d", o.HTTPStatus)
	switch {
	case o.Reason == "" && o.HTTPStatus != 0:
		return status
	case o.Reason == "":
		return "no answer from the ERP yet"
	case o.HTTPStatus != 0 && !strings.Contains(o.Reason, status):
		return status + ": " + o.Reason
	}
	return o.Reason
}

// short cuts s to at most n runes, marking the cut.
func short(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

func describeFilter(f store.ParkedFilter) string {
	var parts []string
	if f.Vendor != "" {
		parts = append(parts, "vendor "+f.Vendor)
	}
	if f.Kind != "" {
		parts = append(parts, "kind "+f.Kind)
	}
	if !f.Since.IsZero() {
		parts = append(parts, "parked since "+stamp(f.Since))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}
