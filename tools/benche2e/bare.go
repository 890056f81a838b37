package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/erpbridge/erpbridge/internal/testkit"
)

// bareWorkflow runs three no-op activities one after the other, as regular
// or as local activities: the least any three-step Temporal pipeline costs.
func bareWorkflow(ctx workflow.Context, local bool) error {
	for range 3 {
		var f workflow.Future
		if local {
			lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second})
			f = workflow.ExecuteLocalActivity(lctx, noop)
		} else {
			actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
			f = workflow.ExecuteActivity(actx, noop)
		}
		if err := f.Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

// noop is the baseline's activity: it does nothing.
func noop(context.Context) error { return nil }

// benchBare runs the baselines on the same server with a plain client and a
// plain worker (default options, no codec) on a task queue of their own.
func benchBare(ctx context.Context, o options, temporalAddr string, res *Result) error {
	c, err := client.DialContext(ctx, client.Options{HostPort: temporalAddr, Namespace: "default",
		Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	if err != nil {
		return err
	}
	defer c.Close()
	queue := "bench-bare-" + testkit.RandomHex(4)
	w := sdkworker.New(c, queue, sdkworker.Options{})
	w.RegisterWorkflowWithOptions(bareWorkflow, workflow.RegisterOptions{Name: "BareWorkflow"})
	w.RegisterActivityWithOptions(noop, activity.RegisterOptions{Name: "Noop"})
	if err := w.Start(); err != nil {
		return err
	}
	defer w.Stop()

	// As many workflows as erpbridge had records, so both drain the same amount.
	n := max(res.Unique, 1)
	cpu0 := childrenCPU()
	wfs, starts, err := bareRun(ctx, c, queue, n, o.c, false)
	if err != nil {
		return fmt.Errorf("bare 3-activity baseline: %w", err)
	}
	res.Bare3ActWfPerSec = wfs
	res.BareServerCPUMsPerWf = (childrenCPU() - cpu0) * 1000 / float64(n)
	// Start latency at the same concurrency, while the worker drains the same burst.
	res.BareStartP50Ms, res.BareStartP99Ms = pct(starts, 0.50), pct(starts, 0.99)
	logf("bare: %d workflows of 3 activities at %.1f/s", n, wfs)

	if wfs, _, err = bareRun(ctx, c, queue, n, o.c, true); err != nil {
		return fmt.Errorf("bare 3-local-activity baseline: %w", err)
	}
	res.Bare3LocalWfPerSec = wfs
	logf("bare: %d workflows of 3 local activities at %.1f/s", n, wfs)
	return nil
}

// bareRun starts n bare workflows at concurrency c and waits for them all.
// It returns workflows per second from the first start to the last close,
// and each start's latency.
func bareRun(ctx context.Context, c client.Client, queue string, n, conc int, local bool) (float64, []time.Duration, error) {
	starts := make([]time.Duration, n)
	runID := testkit.RandomHex(4)
	var lastClose atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var waiters sync.WaitGroup
	first := time.Now()
	fanOut(n, conc, func(i int) bool {
		t0 := time.Now()
		run, err := startBare(ctx, c, client.StartWorkflowOptions{ID: fmt.Sprintf("bare-%s-%d", runID, i), TaskQueue: queue}, local)
		starts[i] = time.Since(t0)
		if err != nil {
			errOnce.Do(func() { firstErr = fmt.Errorf("start bare workflow %d: %w", i, err) })
			return true
		}
		waiters.Add(1)
		go func() {
			defer waiters.Done()
			if err := waitBare(ctx, c, run); err != nil {
				errOnce.Do(func() { firstErr = fmt.Errorf("bare workflow %s: %w", run.GetID(), err) })
				return
			}
			now := time.Now().UnixNano()
			for {
				old := lastClose.Load()
				if now <= old || lastClose.CompareAndSwap(old, now) {
					break
				}
			}
		}()
		return true
	})
	waiters.Wait()
	if firstErr != nil {
		return 0, nil, firstErr
	}
	secs := time.Unix(0, lastClose.Load()).Sub(first).Seconds()
	return float64(n) / secs, starts, nil
}

// waitBare waits for a bare workflow to close. A long poll that timed out
// on a busy server is polled again, as the start is tried again: only the
// workflow's own failure counts.
func waitBare(ctx context.Context, c client.Client, run client.WorkflowRun) error {
	var err error
	for range 10 {
		if err = c.GetWorkflow(ctx, run.GetID(), run.GetRunID()).Get(ctx, nil); err == nil {
			return nil
		}
		var deadline *serviceerror.DeadlineExceeded
		var unavailable *serviceerror.Unavailable
		if ctx.Err() != nil || !(errors.Is(err, context.DeadlineExceeded) || errors.As(err, &deadline) || errors.As(err, &unavailable)) {
			return err
		}
	}
	return err
}

// startBare starts one bare workflow. A start that timed out on a busy
// server is tried again under the same id, as a client would, so one slow
// answer does not void the baseline; its latency counts in full.
func startBare(ctx context.Context, c client.Client, opts client.StartWorkflowOptions, local bool) (client.WorkflowRun, error) {
	var err error
	for range 5 {
		var run client.WorkflowRun
		run, err = c.ExecuteWorkflow(ctx, opts, "BareWorkflow", local)
		if err == nil {
			return run, nil
		}
		var already *serviceerror.WorkflowExecutionAlreadyStarted
		if errors.As(err, &already) {
			return c.GetWorkflow(ctx, opts.ID, ""), nil // an earlier try started it
		}
		var unavailable *serviceerror.Unavailable
		var deadline *serviceerror.DeadlineExceeded
		if ctx.Err() != nil || !(errors.Is(err, context.DeadlineExceeded) || errors.As(err, &unavailable) || errors.As(err, &deadline)) {
			return nil, err
		}
	}
	return nil, err
}

func execOutput(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).Output()
	return string(out), err
}

func numCPU() int { return runtime.NumCPU() }
