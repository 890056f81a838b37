package app

import (
	"fmt"
	"strings"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/config"
	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/internal/testkit"
)

// fakeTemporal is a Temporal client whose health check always answers.
type fakeTemporal struct{ client.Client }

func (fakeTemporal) CheckHealth(context.Context, *client.CheckHealthRequest) (*client.CheckHealthResponse, error) {
	return &client.CheckHealthResponse{}, nil
}

// On shutdown the API's readiness fails first while it still serves, for the
// drain window; only then does the listener close; and the whole takes no
// longer than the budget Compose's stop_grace_period is checked against.
func TestShutdownReadinessFailsFirst(t *testing.T) {
	cfg := config.Default()
	cfg.HTTP.DrainWindow, cfg.HTTP.ShutdownTimeout, cfg.Temporal.WorkerStopTimeout = time.Second, 2*time.Second, time.Second
	ln := testkit.Listen(t)
	b, err := NewBridge(BridgeDeps{Config: cfg, DB: testenv.SQLite(t), Temporal: fakeTemporal{}, Listener: ln,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx, true, false) }()
	url := "http://" + ln.Addr().String() + "/readyz"
	get := func() (int, error) {
		resp, err := http.Get(url)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	want := func(code int) error {
		got, err := get()
		if err == nil && got != code {
			err = fmt.Errorf("readyz answered %d", got)
		}
		return err
	}
	testenv.Eventually(t, "ready", 30*time.Second, func() error { return want(http.StatusOK) })

	stopped := time.Now()
	cancel()
	testenv.Eventually(t, "readiness failing while still serving", 30*time.Second, func() error { return want(http.StatusServiceUnavailable) })
	testenv.Eventually(t, "the listener closed", 30*time.Second, func() error {
		if _, err := get(); !errors.Is(err, syscall.ECONNREFUSED) {
			return fmt.Errorf("still answering: %v", err)
		}
		return nil
	})
	if closedAfter := time.Since(stopped); closedAfter < cfg.HTTP.DrainWindow {
		t.Errorf("the listener closed %s after the stop, before the %s drain window", closedAfter, cfg.HTTP.DrainWindow)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(cfg.ShutdownBudget(true, false) + time.Second):
		t.Fatalf("Run did not return within the %s budget", cfg.ShutdownBudget(true, false))
	}
}

// A Bridge that cannot bind one of its addresses starts nothing: no worker
// polls its task queue, and the addresses it did bind are free again.
func TestRunThatCannotListenStartsNothing(t *testing.T) {
	srv := testenv.Temporal(t)
	taken, web := testkit.Listen(t), testkit.Listen(t)
	cfg := config.Default()
	cfg.Temporal.Address, cfg.Temporal.TaskQueue = srv.FrontendHostPort(), "never-"+fmt.Sprint(time.Now().UnixNano())
	cfg.HTTP.AdminAddr = taken.Addr().String()
	cfg.Schedules.Enabled = false
	c := srv.Client()
	b, err := NewBridge(BridgeDeps{Config: cfg, DB: testenv.SQLite(t), Temporal: c, Listener: web, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	err = b.Run(t.Context(), true, true)
	if err == nil || !strings.Contains(err.Error(), "listen on "+cfg.HTTP.AdminAddr) {
		t.Fatalf("Run = %v, want a failure to listen on the admin address", err)
	}
	// The worker would have polled within a second of starting.
	time.Sleep(2 * time.Second)
	resp, err := c.DescribeTaskQueue(t.Context(), cfg.Temporal.TaskQueue, enums.TASK_QUEUE_TYPE_WORKFLOW)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(resp.GetPollers()); n != 0 {
		t.Fatalf("%d pollers on the task queue of a Bridge that failed to start", n)
	}
	// The webhook listener it was given is closed by nobody but its owner; the
	// admin address is still the test's.
	if _, err := net.Dial("tcp", web.Addr().String()); err != nil {
		t.Fatalf("the given listener was closed: %v", err)
	}
}
