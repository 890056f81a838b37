// Command benche2e measures erpbridge end to end against bare Temporal on the
// same dev server in the same run (`make bench-e2e`).
//
// It starts the pinned Temporal dev server (in memory), a store (a MariaDB
// database created and dropped, or a SQLite file), an in-process recording
// ERP (the simulator's handler) and erpbridge itself, built from
// ./cmd/erpbridge and run as `erpbridge all` in a process of its own (api,
// relay and worker, payloads encrypted), so its CPU and memory are its own.
// It posts a burst of signed AutoX3 callbacks at a fixed
// concurrency, measures every acknowledgement and the time until the ERP has
// accepted every record, and checks that each record was accepted exactly
// once. Then, on the same server, it runs the bare baselines: no-op workflows
// of three activities, of three local activities, and the latency of a bare
// StartWorkflow at the same concurrency. Absolute figures on a shared machine
// are noise; the ratios to the baselines are what to compare between commits.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	_ "github.com/go-sql-driver/mysql" // the admin connection that creates the database
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"
	"gorm.io/gorm"

	"github.com/erpbridge/erpbridge/erp/erpsim"
	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/internal/testkit"
	"github.com/erpbridge/erpbridge/store"
	"github.com/erpbridge/erpbridge/tools/devstack"
	"github.com/erpbridge/erpbridge/vendors"
	"github.com/erpbridge/erpbridge/vendors/autox3"
)

const (
	appSecret = "bench-app-secret"
	erpToken  = "bench-erp-token"
)

// options are the command line.
type options struct {
	n           int
	c           int
	store       string
	dup         float64
	prefill     int
	jsonPath    string
	mysqlDSN    string
	cpuProfile  string
	heapProfile string
	bridgeEnv   []string
	bare        bool
	timeout     time.Duration
	split       int
}

func main() {
	var o options
	flag.IntVar(&o.n, "n", 300, "callbacks posted (redeliveries included)")
	flag.IntVar(&o.c, "c", 20, "requests in flight, and concurrent starts of the bare baseline")
	flag.StringVar(&o.store, "store", "sqlite", "store: mysql or sqlite")
	flag.Float64Var(&o.dup, "dup", 0, "share of the posted callbacks that are redeliveries of another one, 0 to <1")
	flag.IntVar(&o.prefill, "prefill", 0, "events (and records) stored through the store package before the burst")
	flag.StringVar(&o.jsonPath, "json", "", "also write the results as JSON to this file")
	flag.StringVar(&o.mysqlDSN, "mysql-dsn", envOr("TEST_MYSQL_DSN", "root:@tcp(127.0.0.1:3306)/"), "admin DSN of the MySQL-compatible server, without a database")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the erpbridge process during the burst (api, relay and worker) to this file")
	flag.StringVar(&o.heapProfile, "heapprofile", "", "write the erpbridge process's heap profile taken at its highest resident set during the burst to this file")
	flag.Func("bridge-env", "KEY=VALUE set in erpbridge's environment, e.g. WORKFLOW_CACHE_SIZE=500 or GOMEMLIMIT=150MiB (repeatable)", func(v string) error {
		if k, _, ok := strings.Cut(v, "="); !ok || k == "" {
			return errors.New("want KEY=VALUE")
		}
		o.bridgeEnv = append(o.bridgeEnv, v)
		return nil
	})
	flag.BoolVar(&o.bare, "bare", true, "run the bare baselines after erpbridge (-bare=false: erpbridge only, no ratios)")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Minute, "give up on the burst draining after this long")
	flag.IntVar(&o.split, "split", 0, "post one AutoX3 maintenance plan message of this many plans (e.g. 3000, about 1 MB) just before the burst, which then runs while it splits")
	flag.Parse()
	if o.n <= 0 || o.c <= 0 || o.dup < 0 || o.dup >= 1 || (o.store != "mysql" && o.store != "sqlite") {
		fmt.Fprintln(os.Stderr, "benche2e: need -n > 0, -c > 0, 0 <= -dup < 1 and -store mysql|sqlite")
		os.Exit(2)
	}
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "benche2e:", err)
		os.Exit(1)
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Result is one run's figures, as printed and as written with -json.
type Result struct {
	Commit    string    `json:"commit,omitempty"`
	StartedAt time.Time `json:"started_at"`
	Store     string    `json:"store"`
	Posted    int       `json:"posted"`
	Unique    int       `json:"unique"`
	C         int       `json:"concurrency"`
	Prefill   int       `json:"prefill"`
	CPUs      int       `json:"cpus"`
	// BridgeEnv is what -bridge-env added to erpbridge's environment.
	BridgeEnv []string `json:"bridge_env,omitempty"`

	AcksPerSec float64 `json:"acks_per_sec"`
	AckP50Ms   float64 `json:"ack_p50_ms"`
	AckP99Ms   float64 `json:"ack_p99_ms"`
	AckMaxMs   float64 `json:"ack_max_ms"`
	Non200     int     `json:"non_200"`
	E2ERecPerS float64 `json:"e2e_records_per_sec"`
	E2ESeconds float64 `json:"e2e_seconds"`
	// E2EHalfSeconds is when the ERP had accepted half the records, from the first post.
	E2EHalfSeconds float64 `json:"e2e_half_seconds"`
	ExactlyOnce    bool    `json:"exactly_once"`
	ERPAccepted    int     `json:"erp_accepted"`
	// Memory of the `erpbridge all` process, in MiB: its peak resident set
	// (VmHWM, read once the burst has drained), the highest resident set and
	// Go heap in use (go_memstats_heap_inuse_bytes) sampled during the burst,
	// and its resident set once the burst has drained.
	BridgePeakRSSMiB        float64 `json:"bridge_peak_rss_mib"`
	BridgeSampledPeakRSSMiB float64 `json:"bridge_sampled_peak_rss_mib"`
	BridgePeakHeapInuseMiB  float64 `json:"bridge_peak_heap_inuse_mib"`
	BridgeRSSAfterMiB       float64 `json:"bridge_rss_after_mib"`
	// BenchPeakRSSMiB is this process's peak resident set (VmHWM): the
	// recording ERP, the load generator and the bare baselines' worker, not erpbridge.
	BenchPeakRSSMiB float64 `json:"bench_peak_rss_mib"`
	// CPU milliseconds per record from the first post until the ERP accepted
	// the last one: of the Temporal dev server, of the erpbridge process, and
	// of this process (the recording ERP, the load generator). Less noisy
	// than rates on a busy machine.
	ServerCPUMsPerRecord float64 `json:"server_cpu_ms_per_record"`
	BridgeCPUMsPerRecord float64 `json:"bridge_cpu_ms_per_record"`
	BenchCPUMsPerRecord  float64 `json:"bench_cpu_ms_per_record"`

	// BareSkipped: run with -bare=false, no baselines and no ratios.
	BareSkipped        bool    `json:"bare_skipped,omitempty"`
	Bare3ActWfPerSec   float64 `json:"bare_3_activity_wf_per_sec"`
	Bare3LocalWfPerSec float64 `json:"bare_3_local_activity_wf_per_sec"`
	BareStartP50Ms     float64 `json:"bare_start_p50_ms"`
	BareStartP99Ms     float64 `json:"bare_start_p99_ms"`
	// Dev server CPU milliseconds per bare three-activity workflow.
	BareServerCPUMsPerWf float64 `json:"bare_server_cpu_ms_per_wf"`

	// Split is the plans of the large message posted before the burst (-split);
	// SplitSeconds is when the ERP had accepted all of them, from its post.
	Split        int     `json:"split,omitempty"`
	SplitSeconds float64 `json:"split_seconds,omitempty"`
	SplitAckMs   float64 `json:"split_ack_ms,omitempty"`

	RatioE2EToBare3Act  float64 `json:"ratio_e2e_to_bare_3_activity"`
	RatioAckP99ToStart  float64 `json:"ratio_ack_p99_to_bare_start_p99"`
	RatioE2EToBareLocal float64 `json:"ratio_e2e_to_bare_3_local_activity"`
}

func run(ctx context.Context, o options) error {
	res := Result{StartedAt: time.Now().UTC(), Store: o.store, Posted: o.n, C: o.c, Prefill: o.prefill, CPUs: numCPU(), BridgeEnv: o.bridgeEnv}
	res.Commit = gitCommit()

	tmp, err := os.MkdirTemp("", "benche2e-bin-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	// Built once per run, so the burst measures the binary operators run, in
	// a process of its own.
	bin, err := testenv.BuildErpbridge(ctx, tmp)
	if err != nil {
		return err
	}

	srv, err := startTemporal(ctx)
	if err != nil {
		return err
	}
	defer func() {
		srv.Client().Close()
		_ = srv.Stop()
	}()
	logf("temporal dev server on %s", srv.FrontendHostPort())

	db, storeEnv, dropDB, err := openStore(ctx, o)
	if err != nil {
		return err
	}
	defer dropDB()

	if o.prefill > 0 {
		start := time.Now()
		if err := prefill(ctx, db, o.prefill, 8); err != nil {
			return err
		}
		logf("prefilled %d events and records in %s", o.prefill, time.Since(start).Round(time.Millisecond))
	}

	if err := benchBridge(ctx, o, bin, tmp, srv.FrontendHostPort(), srv.Client(), storeEnv, &res); err != nil {
		return err
	}

	// A baseline that fails (a start timing out on an overloaded dev server)
	// still leaves erpbridge's figures to print; the run fails after them.
	var bareErr error
	if o.bare {
		bareErr = benchBare(ctx, o, srv.FrontendHostPort(), &res)
	} else {
		res.BareSkipped = true
	}
	if bareErr != nil {
		logf("%v: the bare figures and ratios below are missing", bareErr)
	}
	if res.Bare3ActWfPerSec > 0 {
		res.RatioE2EToBare3Act = res.E2ERecPerS / res.Bare3ActWfPerSec
	}
	if res.Bare3LocalWfPerSec > 0 {
		res.RatioE2EToBareLocal = res.E2ERecPerS / res.Bare3LocalWfPerSec
	}
	if res.BareStartP99Ms > 0 {
		res.RatioAckP99ToStart = res.AckP99Ms / res.BareStartP99Ms
	}
	res.BenchPeakRSSMiB = procMemMiB(os.Getpid(), "VmHWM")
	printTable(os.Stdout, res)
	if o.jsonPath != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(o.jsonPath, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", o.jsonPath, err)
		}
	}
	if bareErr != nil {
		return bareErr
	}
	if !res.ExactlyOnce || res.Non200 > 0 {
		return fmt.Errorf("correctness: exactly once %v, non-200 answers %d", res.ExactlyOnce, res.Non200)
	}
	return nil
}

// startTemporal starts the pinned CLI's dev server in memory with erpbridge's
// search attributes, as the tests do.
func startTemporal(ctx context.Context) (*testsuite.DevServer, error) {
	cctx, cancel := context.WithTimeout(ctx, 20*time.Minute)
	defer cancel()
	cli, err := devstack.FindOrInstallTemporalCLI(cctx, testenv.TemporalBinDir(), os.Stderr)
	if err != nil {
		return nil, fmt.Errorf("temporal CLI: %w", err)
	}
	srv, err := testenv.StartDevServer(cctx, cli, flow.SearchAttributeNames)
	if err != nil {
		return nil, fmt.Errorf("start the Temporal dev server: %w", err)
	}
	return srv, nil
}

// openStore opens a fresh, migrated store and returns erpbridge's
// environment settings for it and how to remove it.
func openStore(ctx context.Context, o options) (*gorm.DB, []string, func(), error) {
	if o.store == "sqlite" {
		dir, err := os.MkdirTemp("", "benche2e-")
		if err != nil {
			return nil, nil, nil, err
		}
		path := filepath.Join(dir, "erpbridge.db")
		db, err := store.Open("", path)
		if err != nil {
			os.RemoveAll(dir)
			return nil, nil, nil, err
		}
		if err := store.Migrate(ctx, db); err != nil {
			return nil, nil, nil, err
		}
		return db, []string{"STORE=sqlite", "SQLITE_PATH=" + path}, func() { closeGorm(db); os.RemoveAll(dir) }, nil
	}
	admin, err := sql.Open("mysql", o.mysqlDSN)
	if err != nil {
		return nil, nil, nil, err
	}
	name := "erpbridge_bench_" + testkit.RandomHex(6)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		admin.Close()
		return nil, nil, nil, fmt.Errorf("create database on %s: %w", o.mysqlDSN, err)
	}
	drop := func() {
		_, _ = admin.Exec("DROP DATABASE IF EXISTS " + name)
		admin.Close()
	}
	base, q := o.mysqlDSN, ""
	if i := strings.Index(base, "?"); i >= 0 {
		base, q = base[:i], base[i:]
	}
	dsn := base[:strings.LastIndex(base, "/")+1] + name + q
	db, err := store.Open(dsn, "")
	if err != nil {
		drop()
		return nil, nil, nil, err
	}
	if err := store.Migrate(ctx, db); err != nil {
		closeGorm(db)
		drop()
		return nil, nil, nil, err
	}
	return db, []string{"STORE=mysql", "MYSQL_DSN=" + dsn}, func() { closeGorm(db); drop() }, nil
}

func closeGorm(db *gorm.DB) {
	if sqlDB, err := db.DB(); err == nil {
		sqlDB.Close()
	}
}

// prefill stores k persisted AutoX3 events, each the newest state of its
// own record, through the store package as the workflows' Persist does. They
// have started workflows as far as the relay is concerned, so it leaves them.
func prefill(ctx context.Context, db *gorm.DB, k, workers int) error {
	st := store.New(db)
	base := time.Now().UnixMilli()
	errc := make(chan error, workers)
	fanOut(k, workers, func(i int) bool {
		msgID := fmt.Sprintf("prefill-%d", i)
		body := autox3.SampleReceptionBody(msgID, 1_000_000_000+int64(i), base-int64(i), appSecret)
		in := store.Inbound{Vendor: vendors.AutoX3, EventKey: msgID, EventType: autox3.MsgTypeReceptionCreate,
			Body: body, WorkflowID: flow.EventWorkflowID(vendors.AutoX3, msgID), ReceivedAt: time.Now().UTC()}
		if _, _, err := st.Persist(ctx, in, autox3.Decode); err != nil {
			errc <- fmt.Errorf("prefill event %d: %w", i, err)
			return false
		}
		return true
	})
	close(errc)
	return <-errc
}

// benchBridge runs `erpbridge all` as a child process and the burst against it.
func benchBridge(ctx context.Context, o options, bin, tmp, temporalAddr string, tc client.Client, storeEnv []string, res *Result) error {
	sim, err := erpsim.New("", erpToken)
	if err != nil {
		return fmt.Errorf("erp simulator: %w", err)
	}
	defer sim.Close()
	simSrv := httptest.NewServer(sim.Handler())
	defer simSrv.Close()

	key := make([]byte, 32)
	_, _ = rand.Read(key)
	queue := "bench-" + testkit.RandomHex(4)
	dataDir := filepath.Join(tmp, "data")
	env := append([]string{
		"ERPBRIDGE_PROFILE=dev", // the recording ERP is on loopback
		"AUTO_MIGRATE=false",    // migrated above
		"DATA_DIR=" + dataDir,
		"TEMPORAL_ADDRESS=" + temporalAddr, "TEMPORAL_NAMESPACE=default", "TEMPORAL_TASK_QUEUE=" + queue,
		"ERP_URL=" + simSrv.URL, "ERP_TOKEN=" + erpToken, "ERP_TIMEOUT=5s", "ERP_RETRY_BUDGET=1h",
		"ERP_RETRY_INITIAL=1s", "ERP_RETRY_MAX_INTERVAL=10s",
		"AUTOX3_APP_SECRET=" + appSecret, "PAYLOAD_KEY=" + base64.StdEncoding.EncodeToString(key),
		"SHUTDOWN_TIMEOUT=10s", "DRAIN_WINDOW=0s", "LOG_LEVEL=warn",
	}, storeEnv...)
	env = append(env, o.bridgeEnv...)
	bridge, err := startBridge(bin, env)
	if err != nil {
		return err
	}
	defer bridge.stop()
	apiURL := bridge.apiURL

	// The burst: unique callbacks, and redeliveries of them shuffled in.
	unique := o.n - int(float64(o.n)*o.dup+0.5)
	res.Unique = unique
	now := time.Now().UnixMilli()
	runID := testkit.RandomHex(4)
	baseID := int64(2_000_000_000) + mrand.Int64N(1_000_000_000)
	bodies := make([][]byte, unique)
	externalIDs := make(map[string]bool, unique)
	for i := range unique {
		bodies[i] = autox3.SampleReceptionBody(fmt.Sprintf("bench-%s-%d", runID, i), baseID+int64(i), now+int64(i), appSecret)
		externalIDs[strconv.FormatInt(baseID+int64(i), 10)] = true
	}
	posts := make([][]byte, 0, o.n)
	posts = append(posts, bodies...)
	for len(posts) < o.n {
		posts = append(posts, bodies[mrand.IntN(unique)])
	}
	mrand.Shuffle(len(posts), func(i, j int) { posts[i], posts[j] = posts[j], posts[i] })

	var prof *cpuProfiler
	if o.cpuProfile != "" {
		dir := filepath.Join(tmp, "cpu")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		prof = startCPUProfiler(bridge, dir, o.cpuProfile)
	}
	mem := startMemSampler(bridge, o.heapProfile)

	pid := bridge.pid()
	srvCPU0, bridgeCPU0, selfCPU0 := childrenCPU(pid), procCPU(pid), selfCPU()
	var splitStart time.Time
	if o.split > 0 {
		res.Split = o.split
		body := autox3.SampleLargeMaintenanceV2Body("bench-split-"+runID, "BS"+runID, baseID, o.split, now, appSecret)
		splitStart = time.Now()
		lat, bad, _, _ := postAll(apiURL+"/webhooks/autox3", [][]byte{body}, 1)
		if bad > 0 {
			return fmt.Errorf("the %d-plan message (%d bytes) was not acknowledged", o.split, len(body))
		}
		res.SplitAckMs = pct(lat, 1)
		logf("posted a maintenance message of %d plans (%d bytes); the burst runs while it splits", o.split, len(body))
	}
	logf("posting %d callbacks (%d unique) at %d in flight to erpbridge on %s", o.n, unique, o.c, o.store)
	lat, non200, first, last := postAll(apiURL+"/webhooks/autox3", posts, o.c)
	ackSecs := last.Sub(first).Seconds()
	res.AcksPerSec = float64(o.n) / ackSecs
	res.AckP50Ms, res.AckP99Ms, res.AckMaxMs = pct(lat, 0.50), pct(lat, 0.99), pct(lat, 1)
	res.Non200 = non200

	err = waitFor(o.timeout, func() bool { return sim.Stats().Accepted >= int64(unique+o.split) || bridge.hasExited() })
	if bridge.hasExited() {
		return fmt.Errorf("erpbridge exited during the burst (%v); the ERP had accepted %d of %d records", bridge.waitErr, sim.Stats().Accepted, unique)
	}
	srvCPU1, bridgeCPU1, selfCPU1 := childrenCPU(pid), procCPU(pid), selfCPU()
	res.BridgeSampledPeakRSSMiB, res.BridgePeakHeapInuseMiB, _ = mem.stop()
	res.BridgePeakRSSMiB = procMemMiB(pid, "VmHWM")
	res.BridgeRSSAfterMiB = procMemMiB(pid, "VmRSS")
	logMemBreakdown(bridge)
	if prof != nil {
		if perr := prof.stop(); perr != nil {
			logf("CPU profile: %v", perr)
		} else {
			logf("wrote the CPU profile of erpbridge to %s", o.cpuProfile)
		}
	}
	if o.heapProfile != "" {
		logf("wrote the heap profile of erpbridge at its highest resident set seen to %s", o.heapProfile)
	}
	entries := sim.Records(vendors.AutoX3, autox3.KindReceptionOrder, "")
	if o.split > 0 {
		plans := sim.Records(vendors.AutoX3, autox3.KindMaintenancePlanItem, "")
		for _, e := range plans {
			res.SplitSeconds = max(res.SplitSeconds, e.ReceivedAt.Sub(splitStart).Seconds())
		}
		distinct := map[string]bool{}
		for _, e := range plans {
			distinct[e.ExternalID] = true
		}
		if len(plans) != o.split || len(distinct) != o.split {
			return fmt.Errorf("the ERP accepted %d plans (%d distinct) of the %d-plan message", len(plans), len(distinct), o.split)
		}
	}
	var lastAccepted time.Time
	accepted := make([]time.Duration, 0, len(entries))
	seen := map[string]int{}
	for _, e := range entries {
		seen[e.ExternalID]++
		if e.ReceivedAt.After(lastAccepted) {
			lastAccepted = e.ReceivedAt
		}
		accepted = append(accepted, e.ReceivedAt.Sub(first))
	}
	res.E2EHalfSeconds = pct(accepted, 0.5) / 1000
	res.ERPAccepted = len(entries)
	if err != nil {
		return fmt.Errorf("the ERP accepted %d of %d records within %s", len(entries), unique, o.timeout)
	}
	e2e := lastAccepted.Sub(first).Seconds()
	res.E2ESeconds = e2e
	res.ServerCPUMsPerRecord = (srvCPU1 - srvCPU0) * 1000 / float64(unique)
	res.BridgeCPUMsPerRecord = (bridgeCPU1 - bridgeCPU0) * 1000 / float64(unique)
	res.BenchCPUMsPerRecord = (selfCPU1 - selfCPU0) * 1000 / float64(unique)
	res.E2ERecPerS = float64(unique) / e2e
	// Exactly once: every record once, nothing else. A late duplicate would
	// show up here, so give the pipeline a moment to finish what it started.
	_ = waitFor(time.Minute, func() bool { return runningEvents(ctx, tc, queue) == 0 })
	entries = sim.Records(vendors.AutoX3, autox3.KindReceptionOrder, "")
	clear(seen)
	for _, e := range entries {
		seen[e.ExternalID]++
	}
	res.ExactlyOnce = len(entries) == unique && len(seen) == unique
	for id, n := range seen {
		if n != 1 || !externalIDs[id] {
			res.ExactlyOnce = false
		}
	}
	logf("erpbridge: %d acks in %.2fs, ERP accepted %d records in %.2fs", o.n, ackSecs, len(entries), e2e)
	return nil
}

// runningEvents counts the event workflows of the task queue still running.
func runningEvents(ctx context.Context, c client.Client, queue string) int64 {
	resp, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{
		Query: fmt.Sprintf("TaskQueue = %q AND WorkflowType = %q AND ExecutionStatus = 'Running'", queue, flow.EventWorkflowName)})
	if err != nil {
		return -1
	}
	return resp.GetCount()
}

// postAll posts every body at concurrency c and returns the latencies, the
// count of answers other than 200, and when the first post began and the last answer came.
func postAll(url string, bodies [][]byte, c int) (lat []time.Duration, non200 int, first, last time.Time) {
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConns: c, MaxIdleConnsPerHost: c}}
	lat = make([]time.Duration, len(bodies))
	var bad atomic.Int64
	var mu sync.Mutex
	first = time.Now()
	fanOut(len(bodies), c, func(i int) bool {
		t0 := time.Now()
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(bodies[i]))
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		t1 := time.Now()
		lat[i] = t1.Sub(t0)
		if err != nil || resp.StatusCode != http.StatusOK {
			bad.Add(1)
		}
		mu.Lock()
		if t1.After(last) {
			last = t1
		}
		mu.Unlock()
		return true
	})
	return lat, int(bad.Load()), first, last
}

// fanOut calls f(i) for every i in [0, n) from workers goroutines, each
// taking the next index, and waits for them; a goroutine whose f returns
// false takes no further index.
func fanOut(n, workers int, f func(i int) bool) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(n) || !f(int(i)) {
					return
				}
			}
		})
	}
	wg.Wait()
}

// pct is the q-quantile of ds in milliseconds (q = 1: the maximum).
func pct(ds []time.Duration, q float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	i = max(0, min(i, len(s)-1))
	return float64(s[i]) / float64(time.Millisecond)
}

// waitFor polls cond every 50 ms until it holds or timeout passes.
func waitFor(timeout time.Duration, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return errors.New("timed out")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

func printTable(w io.Writer, r Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "store\t%s\t(%d posted, %d unique, c=%d, prefill %d, %d CPUs)\n", r.Store, r.Posted, r.Unique, r.C, r.Prefill, r.CPUs)
	fmt.Fprintf(tw, "acks/s\t%.1f\n", r.AcksPerSec)
	fmt.Fprintf(tw, "ack p50 / p99 / max\t%.0f / %.0f / %.0f ms\t(%d non-200)\n", r.AckP50Ms, r.AckP99Ms, r.AckMaxMs, r.Non200)
	fmt.Fprintf(tw, "e2e records/s\t%.1f\t(%d accepted by the ERP in %.2fs, half in %.2fs; exactly once: %v)\n", r.E2ERecPerS, r.ERPAccepted, r.E2ESeconds, r.E2EHalfSeconds, r.ExactlyOnce)
	fmt.Fprintf(tw, "CPU per record: server / erpbridge / bench\t%.1f / %.1f / %.1f ms\t(bench: recording ERP and load generator)\n", r.ServerCPUMsPerRecord, r.BridgeCPUMsPerRecord, r.BenchCPUMsPerRecord)
	if r.Split > 0 {
		fmt.Fprintf(tw, "split of %d plans\tall at the ERP %.0fs after its post\t(acknowledged in %.0f ms; the burst above ran meanwhile)\n", r.Split, r.SplitSeconds, r.SplitAckMs)
	}
	if r.BareSkipped {
		fmt.Fprintf(tw, "bare baselines\tskipped (-bare=false)\n")
	} else {
		fmt.Fprintf(tw, "bare 3-activity wf/s\t%.1f\t(server CPU %.1f ms per workflow)\n", r.Bare3ActWfPerSec, r.BareServerCPUMsPerWf)
		fmt.Fprintf(tw, "bare 3-local-activity wf/s\t%.1f\n", r.Bare3LocalWfPerSec)
		fmt.Fprintf(tw, "bare StartWorkflow p50 / p99\t%.0f / %.0f ms\n", r.BareStartP50Ms, r.BareStartP99Ms)
		fmt.Fprintf(tw, "e2e / bare 3-activity\t%.2f×\t(goal ≥ 1.0)\n", r.RatioE2EToBare3Act)
		fmt.Fprintf(tw, "e2e / bare 3-local-activity\t%.2f×\n", r.RatioE2EToBareLocal)
		fmt.Fprintf(tw, "ack p99 / bare start p99\t%.2f×\t(goal ≤ 1.25)\n", r.RatioAckP99ToStart)
	}
	fmt.Fprintf(tw, "erpbridge all: peak RSS (VmHWM)\t%.0f MiB\t(sampled peak %.0f MiB, Go heap in use peak %.0f MiB, %.0f MiB once drained)\n", r.BridgePeakRSSMiB, r.BridgeSampledPeakRSSMiB, r.BridgePeakHeapInuseMiB, r.BridgeRSSAfterMiB)
	fmt.Fprintf(tw, "bench process: peak RSS (VmHWM)\t%.0f MiB\t(recording ERP, load generator, bare baselines; not erpbridge)\n", r.BenchPeakRSSMiB)
	if len(r.BridgeEnv) > 0 {
		fmt.Fprintf(tw, "erpbridge environment added\t%s\n", strings.Join(r.BridgeEnv, " "))
	}
	tw.Flush()
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "benche2e: "+format+"\n", args...)
}

// gitCommit names the commit measured, when git can tell.
func gitCommit() string {
	out, err := execOutput("git", "rev-parse", "--short", "HEAD")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(out)
}
