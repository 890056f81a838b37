// Package intake turns stored callbacks into workflows: the relay starts the
// event workflow of every callback the edge stored (at once when the edge
// wakes it, and again for whatever an earlier try or another process left),
// and the gauges show the backlog and the records waiting for an operator.
// The edge (package api) stores a callback and answers; only when the store
// cannot take it does it carry the body to Temporal itself (Carry).
package intake

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/metrics"
	"github.com/erpbridge/erpbridge/store"
	"github.com/erpbridge/erpbridge/tracing"
	"github.com/erpbridge/erpbridge/workflows"
)

// Relay defaults.
const (
	relayBatch       = 64
	relayConcurrency = 16
	relayPoll        = 2 * time.Second  // how often an idle relay looks for work another process left
	relayMaxBackoff  = 30 * time.Second // the longest wait between tries while Temporal is unreachable
	startTimeout     = 10 * time.Second // one StartWorkflow call
	// relayLease is how long a relay's claim on a batch lasts: longer than a
	// batch of starts can take (relayBatch/relayConcurrency × startTimeout),
	// so a live relay keeps its claim, and short enough that the batch of a
	// relay that died is taken over soon.
	relayLease = 2 * time.Minute
)

// Relay starts the workflow of every stored callback that has none yet: the
// edge stores a callback and answers, and the relay turns stored
// callbacks into workflows, at once when Temporal answers and as soon as it
// answers again when it does not. Any number of api processes run one each;
// the store shares the backlog between them and the workflow id refuses a
// second start, so no callback is started twice or forgotten.
type Relay struct {
	Store     *store.Store
	Temporal  Starter
	TaskQueue string
	Metrics   *metrics.Metrics
	Logger    *slog.Logger
	// Tracing continues each callback's trace at its start (tracing.Off
	// unless set).
	Tracing *tracing.Tracing

	wake      chan struct{}
	reachable atomic.Bool // the last start reached Temporal
	backlog   atomic.Int64
	oldest    atomic.Int64 // unix ms of the oldest waiting callback; 0 when none
	mu        sync.Mutex   // one drain at a time per process
	// unsettled are callbacks this relay claimed while the store failed
	// (the claim's commit or the marking after the starts went unanswered);
	// the next drain settles them before it claims more, so they do not
	// wait out the lease. Guarded by mu.
	unsettled store.Unsettled
}

// Starter is the part of the Temporal client the relay uses.
type Starter interface {
	ExecuteWorkflow(ctx context.Context, options client.StartWorkflowOptions, workflow any, args ...any) (client.WorkflowRun, error)
}

// NewRelay builds a relay; Run starts it.
func NewRelay(st *store.Store, t Starter, taskQueue string, m *metrics.Metrics, log *slog.Logger) *Relay {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Relay{Store: st, Temporal: t, TaskQueue: taskQueue, Metrics: m, Logger: log, Tracing: tracing.Off(), wake: make(chan struct{}, 1)}
	r.reachable.Store(true)
	return r
}

// Kick wakes the relay for a newly stored callback; it never blocks.
func (r *Relay) Kick() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run relays until ctx ends: at start (callbacks left by an earlier run),
// on every Kick, every relayPoll, and with backoff while Temporal is unreachable.
func (r *Relay) Run(ctx context.Context) {
	backoff := time.Second
	waiting := false // a backlog built up while Temporal was unreachable
	for {
		err := r.Drain(ctx)
		r.refreshBacklog(ctx)
		wait := relayPoll
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			if !waiting {
				r.Logger.Warn("relay: cannot start workflows; callbacks are kept and started when Temporal answers",
					"waiting", r.backlog.Load(), "error", err)
				waiting = true
			}
			wait, backoff = backoff, min(2*backoff, relayMaxBackoff)
		default:
			if waiting {
				r.Logger.Info("relay: backlog drained", "waiting", r.backlog.Load())
				waiting = false
			}
			backoff = time.Second
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-r.wake:
			if err != nil {
				// Temporal was unreachable: a new callback does not make it reachable; keep the backoff.
				<-t.C
			}
		case <-t.C:
		}
		t.Stop()
	}
}

// Drain starts workflows for stored callbacks until none is left or a start
// fails; it returns the first failure.
func (r *Relay) Drain(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.unsettled.Started)+len(r.unsettled.Released) > 0 {
		if err := r.Store.Settle(ctx, r.unsettled); err != nil {
			return err
		}
		r.unsettled = store.Unsettled{}
	}
	for ctx.Err() == nil {
		// While Temporal is unreachable one callback probes it, so a batch does
		// not wait out a timeout per callback with its rows locked.
		limit := relayBatch
		if !r.reachable.Load() {
			limit = 1
		}
		var failure error
		var once sync.Once
		n, err := r.Store.StartPending(ctx, limit, relayLease, func(batch []store.Pending) []bool {
			bctx, cancel := context.WithCancel(ctx)
			defer cancel()
			started := make([]bool, len(batch))
			sem := make(chan struct{}, relayConcurrency)
			var wg sync.WaitGroup
			for i, p := range batch {
				sem <- struct{}{}
				if bctx.Err() != nil {
					<-sem
					break // a start failed: leave the rest for the next try
				}
				wg.Add(1)
				go func() {
					defer func() { <-sem; wg.Done() }()
					ok, err := r.start(bctx, p)
					started[i] = ok
					if err != nil {
						once.Do(func() { failure = err; cancel() })
					}
				}()
			}
			wg.Wait()
			return started
		})
		if err != nil {
			var u *store.UnsettledError
			if errors.As(err, &u) {
				r.unsettled.Started = append(r.unsettled.Started, u.Started...)
				r.unsettled.Released = append(r.unsettled.Released, u.Released...)
			}
			return err
		}
		if failure != nil {
			return failure
		}
		if n < limit {
			return nil
		}
	}
	return ctx.Err()
}

// start starts one callback's workflow; a workflow that exists already
// counts as started. Its span continues the trace of the request that
// brought the callback.
func (r *Relay) start(ctx context.Context, p store.Pending) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	_, err := r.begin(tracing.FromParent(ctx, p.TraceParent), "relay start", "started", p, eventInput(p))
	r.reachable.Store(err == nil)
	return err == nil, err
}

// eventInput is the input of a stored callback's event workflow: its claim check.
func eventInput(p store.Pending) flow.EventInput {
	return flow.EventInput{Vendor: p.Vendor, EventKey: p.EventKey, EventType: p.EventType, ReceivedAt: p.ReceivedAt.UTC(),
		ClaimCheck: flow.ClaimCheckFor(p.Vendor, p.EventKey)}
}

// begin starts the event workflow of p with input in, under a span named
// name (the vendor and the workflow id, which hold no personal data), and
// counts the outcome: ok (started or carried), duplicate (the workflow
// exists already, not an error), or failed.
func (r *Relay) begin(ctx context.Context, name, ok string, p store.Pending, in flow.EventInput) (string, error) {
	ctx, span := r.Tracing.Tracer().Start(ctx, name, trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(attribute.String("erpbridge.vendor", p.Vendor), attribute.String("erpbridge.workflow_id", p.WorkflowID)))
	_, err := r.Temporal.ExecuteWorkflow(ctx, startOptions(p, r.TaskQueue), workflows.EventWorkflow, in)
	outcome := ok
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	switch {
	case err == nil:
	case errors.As(err, &already) || temporal.IsWorkflowExecutionAlreadyStartedError(err):
		outcome, err = "duplicate", nil
	default:
		outcome = "failed"
		span.SetStatus(codes.Error, err.Error())
	}
	span.SetAttributes(attribute.String("erpbridge.outcome", outcome))
	span.End()
	if r.Metrics != nil {
		r.Metrics.RelayStarts.WithLabelValues(p.Vendor, outcome).Inc()
	}
	return outcome, err
}

// startOptions are the options of an event workflow's start.
func startOptions(p store.Pending, taskQueue string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:        p.WorkflowID,
		TaskQueue: taskQueue,
		// One message, one run, ever: a second start after the first run
		// closed must not start a second one (REJECT_DUPLICATE), nor one while
		// it is open (FAIL), and the SDK must say so instead of returning the
		// running execution (WorkflowExecutionErrorWhenAlreadyStarted).
		WorkflowIDReusePolicy:                    enums.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy:                 enums.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		// In `all` and `dev`, where this client also runs the worker, the
		// server hands the first workflow task back with the start's answer
		// instead of queueing it; elsewhere the SDK asks for nothing eager.
		EnableEagerStart:      true,
		TypedSearchAttributes: flow.EventSearchAttributes(p.Vendor, p.EventType),
		Memo:                  flow.EventMemo(p.Vendor, p.EventType, p.Origin, p.ReceivedAt),
	}
}

// refreshBacklog updates the backlog figures and gauges; a store that does
// not answer within startTimeout leaves them as they were.
func (r *Relay) refreshBacklog(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	n, oldest, err := r.Store.Backlog(ctx)
	if err != nil {
		return
	}
	r.backlog.Store(n)
	age := 0.0
	if oldest.IsZero() {
		r.oldest.Store(0)
	} else {
		r.oldest.Store(oldest.UnixMilli())
		age = time.Since(oldest).Seconds()
	}
	if r.Metrics != nil {
		r.Metrics.IntakeBacklog.Set(float64(n))
		r.Metrics.IntakeOldestSeconds.Set(age)
	}
}

// Backlog is what the relay last saw: callbacks waiting for a workflow, the
// age of the oldest, and whether Temporal answered the last start.
func (r *Relay) Backlog() (waiting int64, oldestAge time.Duration, temporalReachable bool) {
	if ms := r.oldest.Load(); ms != 0 {
		oldestAge = time.Since(time.UnixMilli(ms))
	}
	return r.backlog.Load(), oldestAge, r.reachable.Load()
}
