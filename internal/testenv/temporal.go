package testenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/tools/devstack"
)

// shared is the test binary's dev server behind Temporal. Test binaries are
// the one place where such state is wanted: a dev server takes seconds to
// start and every test of the package can share it.
var shared struct {
	once sync.Once
	srv  *testsuite.DevServer
	err  error
	// cliErr marks a failure to obtain the CLI (skip outside CI) as opposed
	// to a server that would not start (always a failure).
	cliErr bool
}

// Main runs a test binary's tests, then stops the dev server Temporal started
// and the server Tryton started, and removes the binaries Erpbridge built:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	if shared.srv != nil {
		stopTemporal(shared.srv)
	}
	stopSharedTryton()
	removeBuilds()
	os.Exit(code)
}

// Temporal returns the test binary's Temporal dev server: in memory, headless,
// with flow.SearchAttributeNames registered on the default namespace. It is
// started on first use and shared by every test of the package, which use
// their own task queues and workflow IDs; the package's TestMain calls Main.
// The server is the SDK's testsuite.StartDevServer on the pinned CLI.
func Temporal(t testing.TB) *testsuite.DevServer {
	t.Helper()
	RequireServers(t)
	shared.once.Do(func() {
		cli, err := findTemporalCLI()
		if err != nil {
			shared.err, shared.cliErr = err, true
			return
		}
		shared.srv, shared.err = startTemporal(cli, flow.SearchAttributeNames)
	})
	if shared.cliErr {
		Unavailable(t, "temporal CLI: %v", shared.err)
	}
	if shared.err != nil {
		t.Fatalf("start the shared Temporal dev server: %v", shared.err)
	}
	return shared.srv
}

// NewTemporal starts a dev server of the test's own, stopped when the test
// ends, with the given Keyword search attributes registered.
func NewTemporal(t testing.TB, searchAttributes ...string) *testsuite.DevServer {
	t.Helper()
	srv, err := startTemporal(TemporalCLI(t), searchAttributes)
	if err != nil {
		t.Fatalf("start a Temporal dev server: %v", err)
	}
	t.Cleanup(func() { stopTemporal(srv) })
	return srv
}

// AssertSearchAttributes fails the test unless namespace exists on c's
// server with each of names registered as a Keyword search attribute.
func AssertSearchAttributes(t testing.TB, c client.Client, namespace string, names ...string) {
	t.Helper()
	if _, err := c.WorkflowService().DescribeNamespace(t.Context(), &workflowservice.DescribeNamespaceRequest{Namespace: namespace}); err != nil {
		t.Fatalf("namespace %s: %v", namespace, err)
	}
	resp, err := c.OperatorService().ListSearchAttributes(t.Context(), &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		t.Fatalf("list search attributes of %s: %v", namespace, err)
	}
	custom := resp.GetCustomAttributes()
	for _, name := range names {
		if got, ok := custom[name]; !ok || got != enumspb.INDEXED_VALUE_TYPE_KEYWORD {
			t.Errorf("search attribute %s in %s: registered=%v type=%s; custom attributes: %v", name, namespace, ok, got, slices.Sorted(maps.Keys(custom)))
		}
	}
}

// TemporalCLI returns the pinned Temporal CLI, building it into
// TemporalBinDir if needed; failing to get it is Unavailable.
func TemporalCLI(t testing.TB) string {
	t.Helper()
	RequireServers(t)
	cli, err := findTemporalCLI()
	if err != nil {
		Unavailable(t, "temporal CLI: %v", err)
	}
	return cli
}

func findTemporalCLI() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	return devstack.FindOrInstallTemporalCLI(ctx, TemporalBinDir(), os.Stderr)
}

func startTemporal(cli string, searchAttributes []string) (*testsuite.DevServer, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return StartDevServer(ctx, cli, searchAttributes)
}

// StartDevServer starts the dev server of the Temporal CLI cli in memory,
// headless, with searchAttributes registered as Keyword attributes on the
// default namespace; ctx bounds the start. Its own log goes to stderr at
// level error. Tests call Temporal or NewTemporal; this is for programs
// that need the same server outside a test (the end-to-end benchmark).
func StartDevServer(ctx context.Context, cli string, searchAttributes []string) (*testsuite.DevServer, error) {
	var attrs []temporal.SearchAttributeUpdate
	for _, name := range searchAttributes {
		attrs = append(attrs, temporal.NewSearchAttributeKeyKeyword(name).ValueSet(""))
	}
	return testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath:     cli,
		ClientOptions:    &client.Options{Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))},
		SearchAttributes: temporal.NewSearchAttributes(attrs...),
		LogLevel:         "error",
		Stdout:           io.Discard,
		Stderr:           os.Stderr,
	})
}

func stopTemporal(srv *testsuite.DevServer) {
	srv.Client().Close()
	if err := srv.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "testenv: stop Temporal dev server: %v\n", err)
	}
}

// TemporalBinDir is where tests look for and build the Temporal CLI: the bin
// directory of the module root (where `make temporal-cli` puts it), or a
// directory in the user cache when the module root cannot be found.
func TemporalBinDir() string {
	if root, err := ModuleRoot(); err == nil {
		return filepath.Join(root, "bin")
	}
	if dir, err := os.UserCacheDir(); err == nil {
		return filepath.Join(dir, "erpbridge", "bin")
	}
	return filepath.Join(os.TempDir(), "erpbridge-bin")
}

// moduleLine is the erpbridge module's line in its go.mod, whatever the
// line endings.
var moduleLine = regexp.MustCompile(`(?m)^module\s+github\.com/erpbridge/erpbridge\s*$`)

// ModuleRoot is the directory of the nearest go.mod at or above the working
// directory (a test runs in its package's directory, a `go run` where it is
// started); it is an error when that go.mod is not erpbridge's.
func ModuleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find the module root: %w", err)
	}
	for dir := wd; ; {
		mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil {
			if !moduleLine.Match(mod) {
				return "", fmt.Errorf("find the module root: %s is not the erpbridge module root", dir)
			}
			return dir, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("find the module root: %w", err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("find the module root: no go.mod at or above %s", wd)
		}
		dir = parent
	}
}

// Root is ModuleRoot for a test, which fails when there is none.
func Root(t testing.TB) string {
	t.Helper()
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}
