package devstack_test

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"

	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/internal/testkit"
	"github.com/erpbridge/erpbridge/tools/devstack"
)

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

// TestDevServerResumesFromDBFile starts a server as `erpbridge dev` does,
// checks that its Web UI is told the codec endpoint, leaves a workflow
// running on a task queue no worker polls, restarts the server on the same
// file and finds the workflow, its search attribute and the namespace again.
func TestDevServerResumesFromDBFile(t *testing.T) {
	cli := testenv.TemporalCLI(t)
	dir := t.TempDir()
	const codec = "http://127.0.0.1:8234"
	opts := devstack.DevServerOptions{
		CLIPath:          cli,
		DBFile:           filepath.Join(dir, "state", "temporal.db"),
		Address:          testkit.FreeAddr(t),
		UIPort:           testkit.FreePort(t),
		Namespace:        "erpbridge-test",
		CodecEndpoint:    codec,
		SearchAttributes: []string{"Vendor", "OrderID"},
		LogFile:          filepath.Join(dir, "logs", "temporal.log"),
	}
	started := time.Now()
	srv, err := devstack.StartDevServer(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	t.Logf("dev server on a new DB file ready in %s at %s", time.Since(started).Round(time.Millisecond), srv.Address())

	var settings struct {
		Codec struct{ Endpoint string }
	}
	testenv.Eventually(t, "UI settings", 30*time.Second, func() error {
		return getJSON(t, srv.UIURL()+"/api/v1/settings", &settings)
	})
	if settings.Codec.Endpoint != codec {
		t.Errorf("UI codec endpoint = %q, want %q", settings.Codec.Endpoint, codec)
	}

	c := dial(t, srv, opts.Namespace)
	testenv.AssertSearchAttributes(t, c, opts.Namespace, "Vendor", "OrderID")

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

	started = time.Now()
	srv2, err := devstack.StartDevServer(t.Context(), opts)
	if err != nil {
		t.Fatalf("restart on the same DB file: %v", err)
	}
	t.Cleanup(func() { _ = srv2.Stop() })
	t.Logf("dev server on an existing DB file ready in %s", time.Since(started).Round(time.Millisecond))

	c2 := dial(t, srv2, opts.Namespace)
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
	testenv.AssertSearchAttributes(t, c2, opts.Namespace, "Vendor", "OrderID")

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
	cli := testenv.TemporalCLI(t)
	l := testkit.Listen(t)
	port := l.Addr().(*net.TCPAddr).Port
	started := time.Now()
	srv, err := devstack.StartDevServer(t.Context(), devstack.DevServerOptions{
		CLIPath: cli, DBFile: filepath.Join(t.TempDir(), "temporal.db"), Address: l.Addr().String(), UIPort: testkit.FreePort(t), Namespace: "default"})
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

func dial(t *testing.T, srv *devstack.DevServer, namespace string) client.Client {
	t.Helper()
	c, err := client.DialContext(t.Context(), client.Options{HostPort: srv.Address(), Namespace: namespace,
		Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
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
