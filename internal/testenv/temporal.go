package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/erpbridge/erpbridge/internal/devstack"
)

// SearchAttributes returns the Keyword search attributes erpbridge workflows
// set; every dev server started by Temporal has them registered.
func SearchAttributes() []string {
	return []string{"Vendor", "EventType", "OrderID", "SyncStatus"}
}

// TemporalOption adjusts the dev server Temporal starts.
type TemporalOption func(*devstack.DevServerOptions)

// WithTemporalUI runs the dev server with its Web UI (it is headless otherwise).
func WithTemporalUI() TemporalOption {
	return func(o *devstack.DevServerOptions) { o.Headless = false }
}

// WithTemporalCodecEndpoint points the Web UI at a remote codec; implies the UI.
func WithTemporalCodecEndpoint(url string) TemporalOption {
	return func(o *devstack.DevServerOptions) { o.Headless, o.CodecEndpoint = false, url }
}

// WithTemporalNamespace creates and uses namespace instead of "default".
func WithTemporalNamespace(namespace string) TemporalOption {
	return func(o *devstack.DevServerOptions) { o.Namespace = namespace }
}

// sharedTemporal holds the dev servers of one test binary, one per distinct
// set of options, so every test of a package shares a server.
type sharedTemporal struct {
	mu      sync.Mutex
	servers map[string]*temporalEntry
}

type temporalEntry struct {
	once sync.Once
	srv  *devstack.DevServer
	err  error
	// cliErr marks a failure to obtain the CLI (skip outside CI) as opposed
	// to a server that would not start (always a failure).
	cliErr bool
}

// shared is the per-test-binary registry behind Temporal and StopTemporal.
// Test binaries are the one place where such state is wanted: a dev server
// takes seconds to start and every test of the package can share it.
var shared = &sharedTemporal{servers: map[string]*temporalEntry{}}

// Temporal returns the test binary's Temporal dev server: in memory, headless
// unless an option asks for the UI, with SearchAttributes registered. It is
// started on first use and shared by every test that asks for the same
// options; tests should use their own task queues and workflow IDs.
//
// Packages that use it stop it from TestMain:
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		testenv.StopTemporal()
//		os.Exit(code)
//	}
//
// (On Linux the server also dies with the test binary if that is forgotten.)
// Under -short the test is skipped. A missing Temporal CLI that cannot be built fails the test under CI=true and
// skips it elsewhere; a server that will not start always fails it.
func Temporal(t testing.TB, opts ...TemporalOption) *devstack.DevServer {
	t.Helper()
	RequireServers(t)
	o := devstack.DevServerOptions{
		Headless:         true,
		SearchAttributes: SearchAttributes(),
	}
	for _, opt := range opts {
		opt(&o)
	}
	key := fmt.Sprintf("%v|%s|%s", o.Headless, o.CodecEndpoint, o.Namespace)

	shared.mu.Lock()
	e := shared.servers[key]
	if e == nil {
		e = &temporalEntry{}
		shared.servers[key] = e
	}
	shared.mu.Unlock()

	e.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		defer cancel()
		cli, err := devstack.FindOrInstallTemporalCLI(ctx, TemporalBinDir(), os.Stderr)
		if err != nil {
			e.err, e.cliErr = err, true
			return
		}
		o.CLIPath = cli
		e.srv, e.err = devstack.StartDevServer(ctx, o)
	})
	if e.cliErr {
		Unavailable(t, "temporal CLI: %v", e.err)
	}
	if e.err != nil {
		t.Fatalf("start the shared Temporal dev server: %v", e.err)
	}
	select {
	case <-e.srv.Done():
		t.Fatalf("the shared Temporal dev server has exited: %v", e.srv.Err())
	default:
	}
	return e.srv
}

// TemporalClient returns a client of Temporal(t, opts...), closed when the test ends.
func TemporalClient(t testing.TB, opts ...TemporalOption) client.Client {
	t.Helper()
	srv := Temporal(t, opts...)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := srv.Dial(ctx)
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// TemporalCLI returns the pinned Temporal CLI, building it into
// TemporalBinDir if needed; failing to get it is Unavailable.
func TemporalCLI(t testing.TB) string {
	t.Helper()
	RequireServers(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cli, err := devstack.FindOrInstallTemporalCLI(ctx, TemporalBinDir(), os.Stderr)
	if err != nil {
		Unavailable(t, "temporal CLI: %v", err)
	}
	return cli
}

// StopTemporal stops every dev server Temporal started in this test binary.
func StopTemporal() {
	shared.mu.Lock()
	entries := shared.servers
	shared.servers = map[string]*temporalEntry{}
	shared.mu.Unlock()
	for _, e := range entries {
		// Waits for a start still in progress, then stops what it started.
		e.once.Do(func() {})
		if e.srv != nil {
			if err := e.srv.Stop(); err != nil {
				fmt.Fprintf(os.Stderr, "testenv: stop Temporal dev server: %v\n", err)
			}
		}
	}
}

// TemporalBinDir is where tests look for and build the Temporal CLI: the bin
// directory of the module root (where `make temporal-cli` puts it), or a
// directory in the user cache when the module root cannot be found.
func TemporalBinDir() string {
	if dir, err := os.Getwd(); err == nil {
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				return filepath.Join(dir, "bin")
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	if dir, err := os.UserCacheDir(); err == nil {
		return filepath.Join(dir, "erpbridge", "bin")
	}
	return filepath.Join(os.TempDir(), "erpbridge-bin")
}
