// Package integration drives erpbridge as its users do: vendors post
// callbacks over HTTP to the real API, a real Temporal dev server runs the
// workflows on a real worker, rows land in the real MySQL-compatible server
// (and in SQLite, the embedded default), and records reach an ERP simulator
// over HTTP.
package integration

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/proto"
	"gorm.io/gorm"

	"github.com/google/uuid"

	"github.com/erpbridge/erpbridge/codec"
	"github.com/erpbridge/erpbridge/config"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/erpsim"
	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/internal/app"
	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/internal/testkit"
	"github.com/erpbridge/erpbridge/metrics"
	"github.com/erpbridge/erpbridge/models"
	"github.com/erpbridge/erpbridge/store"
	"github.com/erpbridge/erpbridge/temporalclient"
	"github.com/erpbridge/erpbridge/tracing"
	"github.com/erpbridge/erpbridge/vendors"
	"github.com/erpbridge/erpbridge/vendors/autox3"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// fromEnv is the environment variable name parsed by parse, or def when it
// is unset; a value parse refuses fails the test.
func fromEnv[T any](t *testing.T, name string, def T, parse func(string) (T, error)) T {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	x, err := parse(v)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, v, err)
	}
	return x
}

// envDuration is the duration in the environment variable name (as
// time.ParseDuration reads it), or def when it is unset.
func envDuration(t *testing.T, name string, def time.Duration) time.Duration {
	t.Helper()
	return fromEnv(t, name, def, time.ParseDuration)
}

const (
	appSecret = "it-app-secret"
	fbtToken  = "it-fenbeitong-token"
	erpToken  = "it-erp-token"
)

// stack is one running erpbridge (API + worker) with its own database, task
// queue and ERP simulator, on the shared Temporal dev server.
type stack struct {
	t       *testing.T
	store   string
	db      *gorm.DB
	sim     *erpsim.Sim
	simURL  string
	apiURL  string
	c       client.Client // decodes payloads with the stack's key
	raw     client.Client // no codec: sees what Temporal stores
	keyring *codec.Keyring
	// payloadKey is PAYLOAD_KEY of the stack, for processes that join it.
	payloadKey string
	// dsn is the stack's MySQL database (store "mysql"), sqlitePath its
	// SQLite file (store "sqlite"), for processes that join it.
	dsn, sqlitePath string
	cfg             config.Config
	// shutdown stops the bridge as SIGTERM does and waits for it.
	shutdown func() error
	// log is the stack's logger (stackOptions.logs).
	log *slog.Logger
}

type stackOptions struct {
	// mysqlDSN overrides the database (e.g. through a proxy); store must be "mysql".
	mysqlDSN string
	// vendors replaces the registry of every vendor (nil keeps it).
	vendors *vendors.Registry
	// temporalAddress is a Temporal frontend of the test's own (empty: the shared dev server).
	temporalAddress string
	// logs receives the service's log lines, the SDK's included (nil: discarded).
	logs io.Writer
	// drainWindow is DRAIN_WINDOW (0: the listener closes at once on shutdown).
	drainWindow time.Duration
	// configure changes the stack's configuration before it starts (e.g.
	// the ERP it sends to); nil keeps it.
	configure func(*config.Config)
	// noWorker runs the API alone; the test starts workers itself (startWorker).
	noWorker bool
	// tracing traces the stack (nil: off).
	tracing *tracing.Tracing
}

// newStack starts erpbridge on the given store ("mysql" or "sqlite").
func newStack(t *testing.T, storeName string, opts ...stackOptions) *stack {
	t.Helper()
	var o stackOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	temporalAddress := o.temporalAddress
	if temporalAddress == "" {
		temporalAddress = testenv.Temporal(t).FrontendHostPort()
	}
	var dsn, sqlitePath string
	switch {
	case o.mysqlDSN != "":
		dsn = o.mysqlDSN
	case storeName == "mysql":
		dsn = testenv.NewMySQLDatabase(t)
	default:
		sqlitePath = filepath.Join(t.TempDir(), "erpbridge.db")
	}
	db, err := store.Open(dsn, sqlitePath)
	if err != nil {
		t.Fatalf("open the %s store: %v", storeName, err)
	}
	t.Cleanup(func() { sqlDB, _ := db.DB(); sqlDB.Close() })
	if err := store.Migrate(t.Context(), db); err != nil {
		t.Fatalf("migrate: %v", err)
	}

	sim, err := erpsim.New("", erpToken)
	if err != nil {
		t.Fatalf("erp simulator: %v", err)
	}
	simSrv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() { simSrv.Close(); sim.Close() })

	keyBytes := make([]byte, 32)
	_, _ = rand.Read(keyBytes)
	keyring, err := codec.ParseKeyring(base64.StdEncoding.EncodeToString(keyBytes), "")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Temporal.Address, cfg.Temporal.TaskQueue = temporalAddress, "it-"+storeName+"-"+testkit.RandomHex(4)
	cfg.Temporal.WorkerStopTimeout = 10 * time.Second
	cfg.ERP = config.ERP{Kind: erp.KindHTTP, URL: simSrv.URL, Token: erpToken, Timeout: 5 * time.Second, AttemptTimeout: 20 * time.Second,
		RetryBudget: time.Hour,
		// Short backoff keeps a run of injected failures within the tests' waits.
		RetryInitial: 200 * time.Millisecond, RetryMaxInterval: 2 * time.Second}
	cfg.Vendors.AutoX3AppSecret, cfg.Vendors.FenbeitongToken = appSecret, fbtToken
	cfg.HTTP.DrainWindow = o.drainWindow
	// Stacks share the dev server's namespace: the schedules, one per
	// namespace, are set up by the tests that need them, under ids of their own.
	cfg.Schedules.Enabled = false
	if o.configure != nil {
		o.configure(&cfg)
	}
	m := metrics.New()
	logOut := o.logs
	if logOut == nil {
		logOut = io.Discard
	}
	log := slog.New(slog.NewJSONHandler(logOut, nil))
	c, err := temporalclient.Dial(t.Context(), cfg, temporalclient.DialOptions{DataConverter: codec.DataConverter(keyring), Registerer: m.Registry, Logger: log, Tracing: o.tracing})
	if err != nil {
		t.Fatalf("dial temporal: %v", err)
	}
	raw, err := client.Dial(client.Options{HostPort: cfg.Temporal.Address, Namespace: cfg.Temporal.Namespace, Logger: sdkQuiet{}})
	if err != nil {
		t.Fatalf("dial temporal: %v", err)
	}
	addr, shutdown := startBridge(t, app.BridgeDeps{Config: cfg, Logger: log, DB: db, Temporal: c, Metrics: m, Vendors: o.vendors, Tracing: o.tracing},
		true, !o.noWorker, 30*time.Second)
	t.Cleanup(func() {
		if err := shutdown(); err != nil {
			t.Errorf("bridge stopped with error: %v", err)
		}
		c.Close()
		raw.Close()
	})
	s := &stack{t: t, store: storeName, db: db, sim: sim, simURL: simSrv.URL, apiURL: "http://" + addr, c: c, raw: raw, keyring: keyring,
		payloadKey: base64.StdEncoding.EncodeToString(keyBytes), dsn: dsn, sqlitePath: sqlitePath, cfg: cfg, shutdown: shutdown, log: log}
	testenv.Eventually(t, "API ready", 30*time.Second, func() error {
		code, body := s.get("/readyz")
		if code != http.StatusOK {
			return fmt.Errorf("readyz %d: %s", code, body)
		}
		return nil
	})
	return s
}

// env is the environment an erpbridge command run in this process against
// the stack reads, as an operator's shell would have it: the stack's
// database, Temporal, task queue, payload key and ERP retry policy.
func (s *stack) env() map[string]string {
	env := map[string]string{
		"TEMPORAL_ADDRESS": s.cfg.Temporal.Address, "TEMPORAL_NAMESPACE": s.cfg.Temporal.Namespace,
		"TEMPORAL_TASK_QUEUE": s.cfg.Temporal.TaskQueue, "PAYLOAD_KEY": s.payloadKey,
		"ERP_TIMEOUT": s.cfg.ERP.Timeout.String(), "ERP_RETRY_BUDGET": s.cfg.ERP.RetryBudget.String(),
		"ERP_RETRY_INITIAL": s.cfg.ERP.RetryInitial.String(), "ERP_RETRY_MAX_INTERVAL": s.cfg.ERP.RetryMaxInterval.String(),
	}
	if s.dsn != "" {
		env["MYSQL_DSN"] = s.dsn
	} else {
		env["STORE"], env["SQLITE_PATH"] = "sqlite", s.sqlitePath
	}
	return env
}

// startBridge builds a bridge from deps on a loopback listener of its own
// (its API, or the worker's /metrics) and runs its API, its worker or both
// until stop is called. stop cancels the run as SIGTERM does and returns how
// it ended, or an error when it has not ended within limit (0: no limit);
// it may be called more than once. addr is the listener's address.
func startBridge(t testing.TB, deps app.BridgeDeps, api, worker bool, limit time.Duration) (addr string, stop func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deps.Listener = ln
	b, err := app.NewBridge(deps)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx, api, worker) }()
	var once sync.Once
	var stopErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			var timeout <-chan time.Time // nil: no limit
			if limit > 0 {
				timeout = time.After(limit)
			}
			select {
			case stopErr = <-done:
			case <-timeout:
				stopErr = fmt.Errorf("bridge did not stop within %s", limit)
			}
		})
		return stopErr
	}
	return ln.Addr().String(), stop
}

// post sends a callback body and returns the HTTP status and the decoded JSON answer.
func (s *stack) post(path string, body []byte) (int, map[string]any) {
	s.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.apiURL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		s.t.Fatalf("POST %s answered %d with non-JSON %q", path, resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

// get GETs a path of the stack's API and returns the status and the body.
func (s *stack) get(path string) (int, string) { return getURL(s.apiURL + path) }

// getURL GETs url and returns the status and the body (0 and the error when
// nothing answered).
func getURL(url string) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// mustAccept posts and requires the vendor's "accepted" answer.
func (s *stack) mustAccept(path string, body []byte) {
	s.t.Helper()
	code, ans := s.post(path, body)
	if strings.Contains(path, "autox3") {
		if code != http.StatusOK || ans["status"] != float64(0) || ans["errorInfo"] != "" {
			s.t.Fatalf("AutoX3 callback not accepted: %d %v", code, ans)
		}
		return
	}
	if code != http.StatusOK || ans["code"] != float64(0) || ans["msg"] != "success" {
		s.t.Fatalf("Fenbeitong push not accepted: %d %v", code, ans)
	}
}

func fbtPath() string { return "/webhooks/fenbeitong?token=" + fbtToken }

// result waits for an event workflow to close and returns how it ended. The
// edge acknowledges a callback once it is stored and its relay starts the
// workflow right after, so the workflow may not exist yet when this is called.
func (s *stack) result(workflowID string) (flowResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for !s.started(ctx, workflowID) {
		select {
		case <-ctx.Done():
			return flowResult{}, fmt.Errorf("workflow %s was not started within 2m", workflowID)
		case <-time.After(100 * time.Millisecond):
		}
	}
	var r flowResult
	err := s.c.GetWorkflow(ctx, workflowID, "").Get(ctx, &r)
	return r, err
}

// started reports whether a workflow id has a run.
func (s *stack) started(ctx context.Context, workflowID string) bool {
	_, err := s.c.DescribeWorkflowExecution(ctx, workflowID, "")
	return err == nil
}

// mustResult requires an event to end with the given status. An event
// workflow closes handed_over once its record workflow has the new state;
// the ERP's outcome (synced, superseded, rejected, skipped) is the record
// workflow's to settle in the event's row, which this then waits for.
func (s *stack) mustResult(workflowID, status string) {
	s.t.Helper()
	r, err := s.result(workflowID)
	if err != nil {
		s.t.Fatalf("workflow %s: %v", workflowID, err)
	}
	if r.Status == string(flow.EventHandedOver) && status != string(flow.EventHandedOver) {
		vendor, key, _ := strings.Cut(workflowID, ":")
		if !strings.HasPrefix(r.RecordWorkflowID, strings.TrimSuffix(flow.RecordWorkflowID(vendor, "", ""), ":")) {
			s.t.Fatalf("workflow %s handed over to no record workflow of its vendor: %+v", workflowID, r)
		}
		testenv.Eventually(s.t, fmt.Sprintf("event %s settled %s by its record workflow", workflowID, status), 2*time.Minute, func() error {
			var ev models.InboundEvent
			if err := s.db.Select("sync_status", "sync_detail").Where("vendor = ? AND event_key = ?", vendor, key).Take(&ev).Error; err != nil {
				return err
			}
			if string(ev.SyncStatus) != status {
				return fmt.Errorf("its row is %q (%s)", ev.SyncStatus, ev.SyncDetail)
			}
			return nil
		})
		return
	}
	if r.Status != status {
		s.t.Fatalf("workflow %s ended %q (%s), want %q", workflowID, r.Status, r.Detail, status)
	}
}

type flowResult struct {
	Status           string
	Revision         int64
	Detail           string
	RecordWorkflowID string
}

// records are the ERP simulator's accepted records for one external id, in acceptance order.
func (s *stack) records(kind, externalID string) []erpsim.Entry {
	return s.sim.Records("", kind, externalID)
}

// oneRecord requires the ERP simulator to hold exactly one record of kind
// for the external id, and returns it.
func (s *stack) oneRecord(kind, externalID string) erpsim.Entry {
	s.t.Helper()
	recs := s.records(kind, externalID)
	if len(recs) != 1 {
		s.t.Fatalf("ERP has %d %s records for %s, want 1", len(recs), kind, externalID)
	}
	return recs[0]
}

// reception is one AutoX3 reception order callback of a test: its message
// id, its order and the workflows it leads to.
type reception struct {
	msgID    string
	rbid     int64  // the order's receiveBaseId
	ext      string // rbid in decimal: the record's external id
	wfID     string // the event workflow's id
	recordID string // the record workflow's id
}

// newReception is a fresh reception order, not posted yet.
func newReception() reception {
	msgID, rbid := uuid.NewString(), uniqueID()
	ext := strconv.FormatInt(rbid, 10)
	return reception{msgID: msgID, rbid: rbid, ext: ext,
		wfID: flow.EventWorkflowID("autox3", msgID), recordID: flow.RecordWorkflowID("autox3", "reception_order", ext)}
}

// body is the callback AutoX3 sends for r, created at createdMs (Unix
// milliseconds) and signed with the stacks' app secret.
func (r reception) body(createdMs int64) []byte {
	return autox3.SampleReceptionBody(r.msgID, r.rbid, createdMs, appSecret)
}

// acceptReception posts a fresh reception order created now and requires
// AutoX3's "accepted" answer.
func (s *stack) acceptReception() reception {
	s.t.Helper()
	r := newReception()
	s.mustAccept("/webhooks/autox3", r.body(time.Now().UnixMilli()))
	return r
}

// count counts workflows matching a visibility query on this stack's task queue.
func (s *stack) count(query string) (int64, error) {
	q := fmt.Sprintf("TaskQueue = %q AND (%s)", s.cfg.Temporal.TaskQueue, query)
	resp, err := s.c.CountWorkflow(context.Background(), &workflowservice.CountWorkflowExecutionsRequest{Query: q})
	if err != nil {
		return 0, err
	}
	return resp.GetCount(), nil
}

// list lists workflow ids matching a visibility query on this stack's task
// queue, every page of them.
func (s *stack) list(query string) ([]string, error) {
	runs, err := s.listRuns(fmt.Sprintf("TaskQueue = %q AND (%s)", s.cfg.Temporal.TaskQueue, query))
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(runs))
	for i, r := range runs {
		ids[i] = r.GetWorkflowId()
	}
	return ids, nil
}

// listRuns lists the workflow runs matching a complete visibility query,
// every page of them.
func (s *stack) listRuns(query string) ([]*commonpb.WorkflowExecution, error) {
	var runs []*commonpb.WorkflowExecution
	var token []byte
	for {
		resp, err := s.c.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
			Query: query, PageSize: 200, NextPageToken: token})
		if err != nil {
			return nil, fmt.Errorf("list workflows %s: %w", query, err)
		}
		for _, e := range resp.GetExecutions() {
			runs = append(runs, e.GetExecution())
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return runs, nil
		}
	}
}

// exists reports whether any run of the workflow id exists.
func (s *stack) exists(workflowID string) bool {
	_, err := s.c.DescribeWorkflowExecution(context.Background(), workflowID, "")
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return false
	}
	if err != nil {
		s.t.Fatalf("describe %s: %v", workflowID, err)
	}
	return true
}

// syncStatus is the SyncStatus search attribute of a workflow and whether it is running.
func (s *stack) syncStatus(workflowID string) (string, bool) {
	d, err := s.c.DescribeWorkflowExecution(context.Background(), workflowID, "")
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return "", false // not started yet
	}
	if err != nil {
		s.t.Fatalf("describe %s: %v", workflowID, err)
	}
	info := d.GetWorkflowExecutionInfo()
	var status string
	if p := info.GetSearchAttributes().GetIndexedFields()["SyncStatus"]; p != nil {
		_ = json.Unmarshal(p.GetData(), &status)
	}
	return status, info.GetStatus() == enums.WORKFLOW_EXECUTION_STATUS_RUNNING
}

// queryStatus runs the status query on a workflow.
func (s *stack) queryStatus(workflowID string) flow.Status {
	s.t.Helper()
	v, err := s.c.QueryWorkflow(context.Background(), workflowID, "", flow.QueryStatus)
	if err != nil {
		s.t.Fatalf("query %s: %v", workflowID, err)
	}
	var st flow.Status
	if err := v.Get(&st); err != nil {
		s.t.Fatal(err)
	}
	return st
}

// uniqueID is a fresh numeric id for receiveBaseIds and order ids.
func uniqueID() int64 {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return time.Now().UnixNano()/1000%1_000_000_000*10 + int64(b[0]%10)
}

// forEachStore runs f against MySQL and against the SQLite default.
func forEachStore(t *testing.T, f func(t *testing.T, s *stack)) {
	for _, store := range []string{"mysql", "sqlite"} {
		t.Run(store, func(t *testing.T) { f(t, newStack(t, store)) })
	}
}

// parallel runs n functions at once and waits for all.
func parallel(n int, f func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() { defer wg.Done(); f(i) }()
	}
	wg.Wait()
}

// sdkQuiet silences the SDK's logging in tests.
type sdkQuiet struct{}

func (sdkQuiet) Debug(string, ...any) {}
func (sdkQuiet) Info(string, ...any)  {}
func (sdkQuiet) Warn(string, ...any)  {}
func (sdkQuiet) Error(string, ...any) {}

// decodeInput decodes a workflow input with the stack's key.
func decodeInput(s *stack, payloads *commonpb.Payloads) (flow.EventInput, error) {
	var in flow.EventInput
	err := codec.DataConverter(s.keyring).FromPayloads(payloads, &in)
	return in, err
}

// addAPI starts another api-only replica on the stack's store and Temporal,
// with its own relay. stop ends it; its relay's open transaction, if any, is
// rolled back as a killed process's would be.
func (s *stack) addAPI() (url string, stop func()) {
	s.t.Helper()
	addr, stopBridge := startBridge(s.t, app.BridgeDeps{Config: s.cfg, DB: s.db, Temporal: s.c,
		Logger: slog.New(slog.DiscardHandler)}, true, false, 0)
	stop = func() { _ = stopBridge() }
	s.t.Cleanup(stop)
	url = "http://" + addr
	testenv.Eventually(s.t, "second api ready", 30*time.Second, func() error {
		resp, err := http.Get(url + "/healthz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	})
	return url, stop
}

// rawHistory is the whole history of a workflow's latest run as Temporal
// stores it, read without the codec: what anyone with access to Temporal sees.
func (s *stack) rawHistory(workflowID string) []byte {
	s.t.Helper()
	return s.rawRunHistory(workflowID, "")
}

// rawRunHistory is the whole history of one run of a workflow as Temporal
// stores it, read without the codec.
func (s *stack) rawRunHistory(workflowID, runID string) []byte {
	s.t.Helper()
	var raw []byte
	it := s.raw.GetWorkflowHistory(context.Background(), workflowID, runID, false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			s.t.Fatal(err)
		}
		b, _ := proto.Marshal(ev)
		raw = append(raw, b...)
	}
	return raw
}
