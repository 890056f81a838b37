package devstack_test

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/erpbridge/erpbridge/internal/devstack"
	"github.com/erpbridge/erpbridge/internal/testenv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.StopTemporal()
	os.Exit(code)
}

func TestFreePort(t *testing.T) {
	seen := map[int]bool{}
	for range 5 {
		p, err := devstack.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		if p <= 0 || p > 65535 {
			t.Fatalf("FreePort() = %d, not a port", p)
		}
		if seen[p] {
			t.Fatalf("FreePort() returned %d twice in a row", p)
		}
		seen[p] = true
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			t.Fatalf("listen on the free port %d: %v", p, err)
		}
		l.Close()
	}
}

func TestReportsVersion(t *testing.T) {
	for out, want := range map[string]bool{
		"temporal version 1.5.1 (Server 1.29.1, UI 2.42.1)": true,
		"1.5.1": true,
		"temporal version 1.5.10 (Server 1.29.1, UI 2.42.1)":    false,
		"temporal version 11.5.1 (Server 1.29.1, UI 2.42.1)":    false,
		"temporal version 0.0.0-DEV (Server 1.29.1, UI 2.42.1)": false,
	} {
		if got := devstack.ReportsVersion(out, "1.5.1"); got != want {
			t.Errorf("ReportsVersion(%q) = %v, want %v", out, got, want)
		}
	}
}

// TestFindCLIWithoutGo checks the error when nothing is found and Go is missing.
func TestFindCLIWithoutGo(t *testing.T) {
	empty := t.TempDir()
	t.Setenv("PATH", empty)
	t.Setenv("TEMPORAL_CLI", "")
	_, err := devstack.FindOrInstallTemporalCLI(t.Context(), filepath.Join(empty, "bin"), io.Discard)
	if err == nil {
		t.Fatal("FindOrInstallTemporalCLI succeeded with an empty PATH and bin directory")
	}
	for _, want := range []string{"go command is not on PATH", "TEMPORAL_CLI", devstack.TemporalCLIVersion} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestFindOrInstallTemporalCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("may build the Temporal CLI")
	}
	cli := testenv.TemporalCLI(t)
	out, err := exec.Command(cli, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s --version: %v\n%s", cli, err, out)
	}
	info, infoErr := buildinfo.ReadFile(cli)
	pinnedBuild := infoErr == nil && info.Main.Path == "github.com/temporalio/cli" && info.Main.Version == "v"+devstack.TemporalCLIVersion
	if !devstack.ReportsVersion(string(out), devstack.TemporalCLIVersion) && !pinnedBuild {
		t.Fatalf("%s is not v%s: %s", cli, devstack.TemporalCLIVersion, out)
	}

	// A TEMPORAL_CLI of the wrong version is passed over, with a note in the log.
	fake := filepath.Join(t.TempDir(), "temporal")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho 'temporal version 9.9.9 (Server 9.9.9, UI 9.9.9)'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TEMPORAL_CLI", fake)
	var log bytes.Buffer
	got, err := devstack.FindOrInstallTemporalCLI(t.Context(), testenv.TemporalBinDir(), &log)
	if err != nil {
		t.Fatalf("with a wrong TEMPORAL_CLI: %v", err)
	}
	if got == fake {
		t.Fatalf("accepted %s, which reports version 9.9.9", fake)
	}
	if !strings.Contains(log.String(), "ignoring TEMPORAL_CLI="+fake) || !strings.Contains(log.String(), "9.9.9") {
		t.Errorf("log does not explain why TEMPORAL_CLI was ignored: %q", log.String())
	}

	// A TEMPORAL_CLI of the right version is taken as it is.
	t.Setenv("TEMPORAL_CLI", got)
	again, err := devstack.FindOrInstallTemporalCLI(t.Context(), t.TempDir(), io.Discard)
	if err != nil || again != got {
		t.Fatalf("with TEMPORAL_CLI=%s: got %q, %v", got, again, err)
	}
}

// TestDevServerResumesFromDBFile starts a server on a DB file, leaves a
// workflow running on a task queue no worker polls, restarts the server on the
// same file and finds the workflow, its search attribute and the namespace again.
func TestDevServerResumesFromDBFile(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Temporal dev servers")
	}
	cli := testenv.TemporalCLI(t)
	dir := t.TempDir()
	opts := devstack.DevServerOptions{
		CLIPath:          cli,
		DBFile:           filepath.Join(dir, "state", "temporal.db"),
		Namespace:        "erpbridge-test",
		SearchAttributes: []string{"Vendor", "OrderID"},
		LogFile:          filepath.Join(dir, "logs", "temporal.log"),
		Headless:         true,
	}
	started := time.Now()
	srv, err := devstack.StartDevServer(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	t.Logf("dev server on a new DB file ready in %s at %s", time.Since(started).Round(time.Millisecond), srv.Address())
	if srv.UIURL() != "" {
		t.Errorf("UIURL() = %q for a headless server", srv.UIURL())
	}
	if srv.Namespace() != "erpbridge-test" {
		t.Errorf("Namespace() = %q", srv.Namespace())
	}

	c := dial(t, srv)
	assertSearchAttributes(t, c, "erpbridge-test", "Vendor", "OrderID")

	workflowID := "devstack-resume-" + uuid.NewString()
	run, err := c.ExecuteWorkflow(t.Context(), client.StartWorkflowOptions{
		ID:                    workflowID,
		TaskQueue:             "no-worker-" + uuid.NewString(),
		TypedSearchAttributes: temporal.NewSearchAttributes(temporal.NewSearchAttributeKeyKeyword("Vendor").ValueSet("autox3")),
	}, "NoSuchWorkflow", "argument")
	if err != nil {
		t.Fatalf("start workflow: %v", err)
	}
	c.Close()

	stopping := time.Now()
	if err := srv.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	t.Logf("dev server stopped in %s", time.Since(stopping).Round(time.Millisecond))
	select {
	case <-srv.Done():
	default:
		t.Fatal("Done() not closed after Stop")
	}
	if err := srv.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	// The whole process group is gone: the frontend port can be bound again.
	l, err := net.Listen("tcp", srv.Address())
	if err != nil {
		t.Fatalf("frontend port still taken after Stop: %v", err)
	}
	l.Close()
	if _, err := os.Stat(opts.DBFile); err != nil {
		t.Fatalf("DB file: %v", err)
	}

	// Restart on the same file, with one more search attribute than before.
	opts.SearchAttributes = append(opts.SearchAttributes, "SyncStatus")
	started = time.Now()
	srv2, err := devstack.StartDevServer(t.Context(), opts)
	if err != nil {
		t.Fatalf("restart on the same DB file: %v", err)
	}
	t.Cleanup(func() { _ = srv2.Stop() })
	t.Logf("dev server on an existing DB file ready in %s", time.Since(started).Round(time.Millisecond))

	c2 := dial(t, srv2)
	desc, err := c2.DescribeWorkflowExecution(t.Context(), workflowID, run.GetRunID())
	if err != nil {
		t.Fatalf("after restart, describe the workflow started before: %v", err)
	}
	info := desc.GetWorkflowExecutionInfo()
	if got := info.GetStatus(); got != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Errorf("status after restart = %s, want Running", got)
	}
	if got := info.GetType().GetName(); got != "NoSuchWorkflow" {
		t.Errorf("workflow type after restart = %q", got)
	}
	if got := decodeKeyword(t, info.GetSearchAttributes().GetIndexedFields()["Vendor"]); got != "autox3" {
		t.Errorf("Vendor search attribute after restart = %q, want autox3", got)
	}
	assertSearchAttributes(t, c2, "erpbridge-test", "Vendor", "OrderID", "SyncStatus")

	logText, err := os.ReadFile(opts.LogFile)
	if err != nil {
		t.Fatalf("log file: %v", err)
	}
	if n := strings.Count(string(logText), "--- "); n != 2 {
		t.Errorf("log file has %d start headers, want 2 (one per start, appended):\n%s", n, logText)
	}
}

// TestDevServerReportsEarlyExit takes the frontend port first and expects a
// prompt error quoting the server's own complaint.
func TestDevServerReportsEarlyExit(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the Temporal CLI")
	}
	cli := testenv.TemporalCLI(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	started := time.Now()
	srv, err := devstack.StartDevServer(t.Context(), devstack.DevServerOptions{CLIPath: cli, Port: port, Headless: true})
	if err == nil {
		srv.Stop()
		t.Fatalf("started a dev server on port %d, which is taken", port)
	}
	if !strings.Contains(err.Error(), "exited before it was ready") || !strings.Contains(err.Error(), strconv.Itoa(port)) {
		t.Errorf("error does not say the server exited and quote its complaint about port %d: %v", port, err)
	}
	if d := time.Since(started); d > 30*time.Second {
		t.Errorf("took %s to notice the server had exited", d)
	}
}

func TestDevServerRejectsBadSearchAttribute(t *testing.T) {
	_, err := devstack.StartDevServer(t.Context(), devstack.DevServerOptions{CLIPath: "temporal", SearchAttributes: []string{"Order-ID"}})
	if err == nil || !strings.Contains(err.Error(), "not an identifier") {
		t.Fatalf("got %v, want an error about the search attribute name", err)
	}
	_, err = devstack.StartDevServer(t.Context(), devstack.DevServerOptions{})
	if err == nil || !strings.Contains(err.Error(), "CLIPath") {
		t.Fatalf("got %v, want an error about CLIPath", err)
	}
}

// TestSharedTemporal checks testenv.Temporal: one server per binary with the
// project's search attributes, usable in visibility queries.
func TestSharedTemporal(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal dev server")
	}
	srv := testenv.Temporal(t)
	if again := testenv.Temporal(t); again != srv {
		t.Fatal("testenv.Temporal started a second server for the same options")
	}
	c := testenv.TemporalClient(t)
	want := testenv.SearchAttributes()
	assertSearchAttributes(t, c, "default", want...)

	orderID := "order-" + uuid.NewString()
	if _, err := c.ExecuteWorkflow(t.Context(), client.StartWorkflowOptions{
		ID:        "devstack-shared-" + uuid.NewString(),
		TaskQueue: "no-worker-" + uuid.NewString(),
		TypedSearchAttributes: temporal.NewSearchAttributes(
			temporal.NewSearchAttributeKeyKeyword("Vendor").ValueSet("fenbeitong"),
			temporal.NewSearchAttributeKeyKeyword("OrderID").ValueSet(orderID),
		),
	}, "NoSuchWorkflow"); err != nil {
		t.Fatalf("start workflow with search attributes: %v", err)
	}
	query := fmt.Sprintf("Vendor = 'fenbeitong' AND OrderID = '%s'", orderID)
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := c.ListWorkflow(t.Context(), &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		if err != nil {
			t.Fatalf("list workflows %q: %v", query, err)
		}
		if len(resp.GetExecutions()) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("query %q found %d executions, want 1", query, len(resp.GetExecutions()))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestSharedTemporalWithUI checks that the UI is served and is told the codec endpoint.
func TestSharedTemporalWithUI(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal dev server")
	}
	const codec = "http://127.0.0.1:8234"
	srv := testenv.Temporal(t, testenv.WithTemporalCodecEndpoint(codec))
	if srv == testenv.Temporal(t) {
		t.Fatal("a server with the UI is the same as the headless one")
	}
	if srv.UIURL() == "" {
		t.Fatal("UIURL() is empty for a server with a UI")
	}
	var settings struct {
		Codec struct{ Endpoint string }
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := getJSON(t, srv.UIURL()+"/api/v1/settings", &settings)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("UI settings: %v", err)
		}
		time.Sleep(300 * time.Millisecond)
	}
	if settings.Codec.Endpoint != codec {
		t.Errorf("UI codec endpoint = %q, want %q", settings.Codec.Endpoint, codec)
	}
}

func getJSON(t *testing.T, url string, v any) error {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

func dial(t *testing.T, srv *devstack.DevServer) client.Client {
	t.Helper()
	c, err := srv.Dial(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func assertSearchAttributes(t *testing.T, c client.Client, namespace string, names ...string) {
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
			keys := make([]string, 0, len(custom))
			for k := range custom {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			t.Errorf("search attribute %s in %s: registered=%v type=%s; custom attributes: %v", name, namespace, ok, got, keys)
		}
	}
}

func decodeKeyword(t *testing.T, p *commonpb.Payload) string {
	t.Helper()
	if p == nil {
		return ""
	}
	var s string
	if err := converter.GetDefaultDataConverter().FromPayload(p, &s); err != nil {
		t.Fatalf("decode search attribute: %v", err)
	}
	return s
}
