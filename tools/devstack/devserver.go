package devstack

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/erpbridge/erpbridge/internal/reason"
)

// startTimeout bounds how long StartDevServer waits for the frontend.
const startTimeout = 60 * time.Second

// stopGrace is how long Stop waits after SIGINT before it kills the group.
const stopGrace = 10 * time.Second

// DevServerOptions configures the Temporal dev server of `erpbridge dev`.
type DevServerOptions struct {
	// CLIPath is the temporal binary (see FindOrInstallTemporalCLI). Required.
	CLIPath string
	// DBFile keeps the server's state across restarts. Required.
	DBFile string
	// Address is the frontend's host:port; the Web UI binds to the same host.
	Address string
	// UIPort is the Web UI's port.
	UIPort int
	// Namespace is created at start when missing.
	Namespace string
	// CodecEndpoint, when set, is the remote codec the Web UI uses to decode payloads.
	CodecEndpoint string
	// SearchAttributes are registered as Keyword when the DB file is created;
	// attributes missing from an older file are for the caller to add.
	SearchAttributes []string
	// LogFile receives the server's output, appended; empty discards it,
	// apart from the tail quoted when the server fails to start.
	LogFile string
}

// DevServer is a running `temporal server start-dev` process.
//
// Tests start their servers with the SDK's testsuite.StartDevServer (see
// internal/testenv). `erpbridge dev` runs the CLI itself because it needs what
// that cannot do: a process group of the server's own, so that the Ctrl-C
// that stops erpbridge dev does not stop the server before the worker has
// drained, and Stop can kill the whole group when SIGINT is not enough; on
// Linux, death of the server with its parent; Done and Err, so dev shuts down
// when the server exits; an early exit reported in the server's own words (a
// port already taken) instead of a timeout; and a Stop that does not wait
// forever.
type DevServer struct {
	opts    DevServerOptions
	cmd     *exec.Cmd
	logFile *os.File
	output  *tailBuffer

	done    chan struct{}
	waitErr error

	stopOnce sync.Once
	stopErr  error
}

// StartDevServer starts a Temporal dev server and returns once its frontend
// serves Namespace. ctx bounds only the start: the server runs until Stop, or
// until the calling process dies (on Linux it is killed with its parent).
func StartDevServer(ctx context.Context, o DevServerOptions) (*DevServer, error) {
	host, port, err := net.SplitHostPort(o.Address)
	if err != nil {
		return nil, fmt.Errorf("start Temporal dev server: address %q: %w", o.Address, err)
	}
	args := []string{"server", "start-dev", "--ip", host, "--port", port, "--ui-port", strconv.Itoa(o.UIPort),
		"--namespace", o.Namespace, "--db-filename", o.DBFile, "--log-level", "warn"}
	if o.CodecEndpoint != "" {
		args = append(args, "--ui-codec-endpoint", o.CodecEndpoint)
	}
	for _, name := range o.SearchAttributes {
		args = append(args, "--search-attribute", name+"=Keyword")
	}
	for _, p := range []string{o.DBFile, o.LogFile} {
		if p == "" {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, fmt.Errorf("start Temporal dev server: %w", err)
		}
	}

	s := &DevServer{opts: o, output: &tailBuffer{max: 16 << 10}, done: make(chan struct{})}
	cmd := exec.Command(o.CLIPath, args...)
	setProcessGroup(cmd)
	var out io.Writer = s.output
	if o.LogFile != "" {
		f, err := os.OpenFile(o.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("start Temporal dev server: open log file: %w", err)
		}
		s.logFile = f
		fmt.Fprintf(f, "--- %s temporal %s\n", time.Now().Format(time.RFC3339), strings.Join(args, " "))
		out = io.MultiWriter(f, s.output)
	}
	cmd.Stdout, cmd.Stderr = out, out
	// Output copying must not outlive the process by long even if something
	// inherited its pipe.
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		s.closeLog()
		return nil, fmt.Errorf("start Temporal dev server %s: %w", o.CLIPath, err)
	}
	s.cmd = cmd
	go func() {
		s.waitErr = cmd.Wait()
		s.closeLog()
		close(s.done)
	}()

	readyCtx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	if err := s.waitReady(readyCtx); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

// waitReady polls the frontend until it serves the namespace.
func (s *DevServer) waitReady(ctx context.Context) error {
	started := time.Now()
	var lastErr error
	for {
		select {
		case <-s.done:
			return fmt.Errorf("temporal dev server exited before it was ready (%v); its last output:\n%s", s.waitErr, s.output.String())
		default:
		}
		if lastErr = s.ping(ctx); lastErr == nil {
			return nil
		}
		select {
		case <-s.done:
			continue // report the exit above
		case <-ctx.Done():
			return fmt.Errorf("temporal dev server at %s not ready after %s: %v (last error: %v); its last output:\n%s",
				s.Address(), time.Since(started).Round(time.Millisecond), ctx.Err(), lastErr, s.output.String())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// ping dials the frontend and describes the namespace.
func (s *DevServer) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	c, err := client.DialContext(ctx, client.Options{
		HostPort:  s.Address(),
		Namespace: s.opts.Namespace,
		Logger:    sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)),
	})
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: s.opts.Namespace}); err != nil {
		return fmt.Errorf("describe namespace %s: %w", s.opts.Namespace, err)
	}
	return nil
}

// Address is the frontend's host:port for clients.
func (s *DevServer) Address() string {
	host, port, _ := net.SplitHostPort(s.opts.Address)
	return net.JoinHostPort(dialHost(host), port)
}

// UIURL is the Web UI's address.
func (s *DevServer) UIURL() string {
	host, _, _ := net.SplitHostPort(s.opts.Address)
	return "http://" + net.JoinHostPort(dialHost(host), strconv.Itoa(s.opts.UIPort))
}

// Done is closed when the server process has exited, for whatever reason.
func (s *DevServer) Done() <-chan struct{} { return s.done }

// Err is the process's exit error once Done is closed (nil before, and nil
// for a clean exit).
func (s *DevServer) Err() error {
	select {
	case <-s.done:
		return s.waitErr
	default:
		return nil
	}
}

// Stop interrupts the server's process group, kills it if it has not exited
// after 10 s, and waits for it. It is safe to call more than once.
func (s *DevServer) Stop() error {
	s.stopOnce.Do(func() {
		select {
		case <-s.done:
			return
		default:
		}
		_ = signalGroup(s.cmd, false)
		select {
		case <-s.done:
			return
		case <-time.After(stopGrace):
		}
		if err := signalGroup(s.cmd, true); err != nil {
			s.stopErr = fmt.Errorf("kill Temporal dev server: %w", err)
			return
		}
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			s.stopErr = fmt.Errorf("temporal dev server (pid %d) did not exit after SIGKILL", s.cmd.Process.Pid)
		}
	})
	return s.stopErr
}

func (s *DevServer) closeLog() {
	if s.logFile != nil {
		s.logFile.Close()
	}
}

// dialHost turns a wildcard bind address into one clients can dial.
func dialHost(ip string) string {
	switch ip {
	case "0.0.0.0", "":
		return "127.0.0.1"
	case "::":
		return "::1"
	}
	return ip
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return reason.Tail(b.buf, 4000)
}
