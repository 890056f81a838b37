package devstack

import (
	"bytes"
	"context"
	"errors"
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

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
)

// DefaultStartTimeout bounds how long StartDevServer waits for the frontend.
const DefaultStartTimeout = 60 * time.Second

// stopGrace is how long Stop waits after SIGINT before it kills the group.
const stopGrace = 10 * time.Second

// startAttempts is how often a start is tried when the ports were chosen here
// and another process took one of them in between.
const startAttempts = 3

// DevServerOptions configures a Temporal development server.
type DevServerOptions struct {
	// CLIPath is the temporal binary (see FindOrInstallTemporalCLI). Required.
	CLIPath string
	// DBFile keeps the server's state across restarts; empty keeps it in memory.
	DBFile string
	// IP is the address the frontend and UI bind to (default 127.0.0.1).
	IP string
	// Port is the frontend gRPC port; 0 picks a free one.
	Port int
	// UIPort is the Web UI port; 0 picks a free one. Ignored when Headless.
	UIPort int
	// Namespace is created at start when missing (default "default", which
	// always exists).
	Namespace string
	// CodecEndpoint, when set, is the remote codec the Web UI uses to decode payloads.
	CodecEndpoint string
	// SearchAttributes are registered as Keyword attributes of Namespace,
	// including on a DB file created before they were listed.
	SearchAttributes []string
	// LogFile receives the server's output (appended); empty discards it,
	// apart from the tail quoted when the server fails to start.
	LogFile string
	// Headless runs the server without its Web UI.
	Headless bool
	// StartTimeout bounds the wait for the frontend (default DefaultStartTimeout).
	StartTimeout time.Duration
}

// DevServer is a running `temporal server start-dev` process.
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
// answers health checks, Namespace exists and the search attributes are
// registered. ctx bounds only the start: the server runs until Stop, or until
// the calling process dies (on Linux it is killed with its parent).
func StartDevServer(ctx context.Context, o DevServerOptions) (*DevServer, error) {
	if o.CLIPath == "" {
		return nil, errors.New("start Temporal dev server: CLIPath is empty")
	}
	if o.IP == "" {
		o.IP = "127.0.0.1"
	}
	if o.Namespace == "" {
		o.Namespace = "default"
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = DefaultStartTimeout
	}
	for _, name := range o.SearchAttributes {
		if !isIdentifier(name) {
			return nil, fmt.Errorf("start Temporal dev server: search attribute name %q is not an identifier", name)
		}
	}
	if o.DBFile != "" {
		abs, err := filepath.Abs(o.DBFile)
		if err != nil {
			return nil, fmt.Errorf("start Temporal dev server: resolve DB file: %w", err)
		}
		o.DBFile = abs
		if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
			return nil, fmt.Errorf("start Temporal dev server: create DB directory: %w", err)
		}
	}
	if o.LogFile != "" {
		if err := os.MkdirAll(filepath.Dir(o.LogFile), 0o755); err != nil {
			return nil, fmt.Errorf("start Temporal dev server: create log directory: %w", err)
		}
	}

	// A fixed frontend port that is taken stays taken; chosen ones may be retried.
	choosePorts := o.Port == 0
	var lastErr error
	for attempt := 1; attempt <= startAttempts; attempt++ {
		try := o
		if err := try.pickPorts(); err != nil {
			return nil, fmt.Errorf("start Temporal dev server: %w", err)
		}
		s, err := start(ctx, try)
		if err == nil {
			return s, nil
		}
		lastErr = err
		// Only a port taken between choosing and binding is worth another try.
		var pe *portError
		if !choosePorts || !errors.As(err, &pe) || ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

// portError marks a start that failed because a port was already in use.
type portError struct{ err error }

func (e *portError) Error() string { return e.err.Error() }
func (e *portError) Unwrap() error { return e.err }

func (o *DevServerOptions) pickPorts() error {
	if o.Port == 0 {
		p, err := FreePort()
		if err != nil {
			return err
		}
		o.Port = p
	}
	if o.UIPort == 0 && !o.Headless {
		p, err := FreePort()
		if err != nil {
			return err
		}
		o.UIPort = p
	}
	return nil
}

func (o DevServerOptions) args() []string {
	args := []string{"server", "start-dev",
		"--ip", o.IP,
		"--port", strconv.Itoa(o.Port),
		"--log-level", "warn",
	}
	if o.Headless {
		args = append(args, "--headless")
	} else {
		args = append(args, "--ui-port", strconv.Itoa(o.UIPort))
		if o.CodecEndpoint != "" {
			args = append(args, "--ui-codec-endpoint", o.CodecEndpoint)
		}
	}
	if o.DBFile != "" {
		args = append(args, "--db-filename", o.DBFile)
	}
	if o.Namespace != "default" {
		args = append(args, "--namespace", o.Namespace)
	}
	for _, name := range o.SearchAttributes {
		args = append(args, "--search-attribute", name+"=Keyword")
	}
	return args
}

func start(ctx context.Context, o DevServerOptions) (*DevServer, error) {
	s := &DevServer{opts: o, output: newTailBuffer(16 << 10), done: make(chan struct{})}
	cmd := exec.Command(o.CLIPath, o.args()...)
	setProcessGroup(cmd)
	var out io.Writer = s.output
	if o.LogFile != "" {
		f, err := os.OpenFile(o.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("start Temporal dev server: open log file: %w", err)
		}
		s.logFile = f
		fmt.Fprintf(f, "--- %s temporal %s\n", time.Now().Format(time.RFC3339), strings.Join(o.args(), " "))
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

	readyCtx, cancel := context.WithTimeout(ctx, o.StartTimeout)
	defer cancel()
	if err := s.waitReady(readyCtx); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

// waitReady polls the frontend until it serves, then makes sure the namespace
// and search attributes are in place.
func (s *DevServer) waitReady(ctx context.Context) error {
	started := time.Now()
	var lastErr error
	for {
		select {
		case <-s.done:
			err := fmt.Errorf("temporal dev server exited before it was ready (%v); its last output:\n%s", s.waitErr, s.output.String())
			if s.output.Contains("can't set") || s.output.Contains("can't use default UI port") || s.output.Contains("address already in use") {
				return &portError{err}
			}
			return err
		default:
		}
		c, err := s.dialOnce(ctx)
		if err == nil {
			err = s.prepare(ctx, c)
			c.Close()
			if err == nil {
				return nil
			}
		}
		lastErr = err
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

func (s *DevServer) dialOnce(ctx context.Context) (client.Client, error) {
	attemptCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	c, err := client.DialContext(attemptCtx, s.clientOptions())
	if err != nil {
		return nil, err
	}
	if _, err := c.CheckHealth(attemptCtx, &client.CheckHealthRequest{}); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// prepare checks the namespace and registers missing search attributes: a DB
// file created before an attribute was listed does not get it from the CLI.
func (s *DevServer) prepare(ctx context.Context, c client.Client) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: s.opts.Namespace}); err != nil {
		return fmt.Errorf("describe namespace %s: %w", s.opts.Namespace, err)
	}
	if len(s.opts.SearchAttributes) == 0 {
		return nil
	}
	list, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: s.opts.Namespace})
	if err != nil {
		return fmt.Errorf("list search attributes: %w", err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for _, name := range s.opts.SearchAttributes {
		t, ok := list.GetCustomAttributes()[name]
		switch {
		case !ok:
			missing[name] = enumspb.INDEXED_VALUE_TYPE_KEYWORD
		case t != enumspb.INDEXED_VALUE_TYPE_KEYWORD:
			return fmt.Errorf("search attribute %s is registered as %s, want Keyword", name, t)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if _, err := c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace:        s.opts.Namespace,
		SearchAttributes: missing,
	}); err != nil {
		return fmt.Errorf("add search attributes: %w", err)
	}
	return nil
}

func (s *DevServer) clientOptions() client.Options {
	return client.Options{
		HostPort:  s.Address(),
		Namespace: s.opts.Namespace,
		Logger:    sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)),
	}
}

// Dial returns a client of the server's namespace; the caller closes it.
func (s *DevServer) Dial(ctx context.Context) (client.Client, error) {
	c, err := client.DialContext(ctx, s.clientOptions())
	if err != nil {
		return nil, fmt.Errorf("dial Temporal dev server at %s: %w", s.Address(), err)
	}
	return c, nil
}

// Address is the frontend's host:port for clients.
func (s *DevServer) Address() string {
	return net.JoinHostPort(dialHost(s.opts.IP), strconv.Itoa(s.opts.Port))
}

// UIURL is the Web UI's address, or "" for a headless server.
func (s *DevServer) UIURL() string {
	if s.opts.Headless {
		return ""
	}
	return "http://" + net.JoinHostPort(dialHost(s.opts.IP), strconv.Itoa(s.opts.UIPort))
}

// Namespace is the namespace the server was started for.
func (s *DevServer) Namespace() string { return s.opts.Namespace }

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
	case "::", "[::]":
		return "::1"
	}
	return strings.Trim(ip, "[]")
}

func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		letter := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !letter && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func newTailBuffer(max int) *tailBuffer { return &tailBuffer{max: max} }

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
	if len(bytes.TrimSpace(b.buf)) == 0 {
		return "(no output)"
	}
	return tail(b.buf, 4000)
}

func (b *tailBuffer) Contains(s string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Contains(b.buf, []byte(s))
}
