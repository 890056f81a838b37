// Package app wires erpbridge's commands: it reads the configuration once and
// builds each component with its dependencies passed explicitly.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	sdkworker "go.temporal.io/sdk/worker"
	"gorm.io/gorm"

	"github.com/erpbridge/erpbridge/activities"
	"github.com/erpbridge/erpbridge/api"
	"github.com/erpbridge/erpbridge/codec"
	"github.com/erpbridge/erpbridge/config"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/intake"
	"github.com/erpbridge/erpbridge/metrics"
	"github.com/erpbridge/erpbridge/store"
	"github.com/erpbridge/erpbridge/temporalclient"
	"github.com/erpbridge/erpbridge/tracing"
	"github.com/erpbridge/erpbridge/vendors"
	"github.com/erpbridge/erpbridge/vendors/fenbeitong/openapi"
	"github.com/erpbridge/erpbridge/vendors/registry"
	"github.com/erpbridge/erpbridge/worker"
)

// commands lists every subcommand with its one-line help.
var commands = map[string]string{
	"dev":          "run everything locally: Temporal dev server + UI, ERP simulator, codec server, API and worker",
	"api":          "serve the webhooks, /healthz, /readyz and /metrics",
	"worker":       "run the Temporal worker (scale by running more of them)",
	"all":          "api and worker in one process",
	"migrate":      "create or update the database schema, then exit",
	"setup":        "create the Temporal namespace unless it exists and register the search attributes, then exit",
	"codec-server": "serve the payload codec for the Temporal Web UI and CLI",
	"erpsim":       "run an ERP simulator on ERPSIM_ADDR: --kind http (the HTTP contract, the default) or --kind kingdee (K3Cloud's WebAPI)",
	"mapping":      "check a mapping file (mapping check [file]) or print what a record becomes (mapping render --erp tryton --kind car_order record.json)",
	"version":      "print the version and build information",
	"healthcheck":  "GET [url or path, default /readyz of HTTP_ADDR]; exit 0 on 2xx (for a container HEALTHCHECK)",
	"resend":       "send the stored newest state of chosen records to the ERP again, e.g. after an ERP restore (resend -h: flags)",
	"ops":          "find events and records by the vendor's ids; retry or skip parked records, one or all (ops -h: usage)",
}

// Main runs the command named by args[0] and returns the process exit code.
func Main(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, args, getenv, stdout, stderr)
}

// Run is Main until ctx ends, which stops a serving command as SIGTERM does.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	name := args[0]
	if _, ok := commands[name]; !ok {
		fmt.Fprintf(stderr, "erpbridge: unknown command %q\n\n", name)
		usage(stderr)
		return 2
	}
	switch name {
	case "version":
		printVersion(stdout)
		return 0
	case "healthcheck":
		return runHealthcheck(args[1:], getenv, stdout, stderr)
	case "ops":
		if code, done := opsHelp(args[1:], stdout, stderr); done {
			return code
		}
	}
	load := config.FromEnv
	if name == "dev" {
		load = config.DevFromEnv
	}
	cfg, err := load(getenv)
	if err == nil {
		if name == "dev" {
			err = runDev(ctx, cfg, stdout, stderr)
		} else {
			err = run(ctx, name, args[1:], cfg, newLogger(stderr, cfg.Log.Level), stdout, stderr)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "erpbridge %s: %v\n", name, err)
		return exitCode(err)
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: erpbridge <command>\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-13s %s\n", n, commands[n])
	}
	fmt.Fprintln(w, "\nconfiguration is read from the environment; see docs/configuration.md")
}

func run(ctx context.Context, name string, args []string, cfg config.Config, log *slog.Logger, stdout, stderr io.Writer) error {
	if err := cfg.Require(needs(name)); err != nil {
		return err
	}
	switch name {
	case "migrate":
		return runMigrate(ctx, cfg, log)
	case "setup":
		return runSetup(ctx, cfg, log)
	case "codec-server":
		return serveCodec(ctx, cfg, log)
	case "erpsim":
		return serveERPSim(ctx, args, cfg, log, stderr)
	case "mapping":
		return runMapping(args, cfg, stdout, stderr)
	case "api", "worker", "all":
		return serveBridge(ctx, cfg, log, name != "worker", name != "api")
	case "resend":
		return runResend(ctx, args, cfg, log, stdout, stderr)
	case "ops":
		return runOps(ctx, args, cfg, log, stdout, stderr)
	}
	return fmt.Errorf("unknown command %q", name)
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// openDB opens the configured store and, with AUTO_MIGRATE (dev), migrates
// it; otherwise it only checks that the migrate command has run.
func openDB(ctx context.Context, cfg config.Config) (*gorm.DB, error) {
	db, err := openStore(cfg)
	if err != nil {
		return nil, err
	}
	if err := schemaCheck(cfg)(ctx, db); err != nil {
		_ = closeDB(db)
		return nil, err
	}
	return db, nil
}

// schemaCheck is how a process makes sure of the schema: Migrate with
// AUTO_MIGRATE (dev), else CheckSchema.
func schemaCheck(cfg config.Config) func(context.Context, *gorm.DB) error {
	if cfg.Store.AutoMigrate {
		return store.Migrate
	}
	return store.CheckSchema
}

// openServingDB is openDB for api, worker and all: a MySQL server that does
// not answer at start does not stop them. The api keeps callbacks through
// Temporal meanwhile and the worker's steps retry; the schema is checked in
// the background once the server answers (a schema the migrate command has
// not brought up to date is then logged, every minute, until it has).
func openServingDB(ctx context.Context, cfg config.Config, log *slog.Logger) (*gorm.DB, error) {
	db, unreachable, err := store.OpenLazy(cfg.Store.MySQLDSN, cfg.Store.SQLitePath)
	if err != nil {
		return nil, err
	}
	sizePool(cfg, db)
	if unreachable == nil {
		if err := schemaCheck(cfg)(ctx, db); err != nil {
			_ = closeDB(db)
			return nil, err
		}
		return db, nil
	}
	log.Warn("the database does not answer: serving without it until it does; callbacks are kept through Temporal meanwhile", "error", unreachable)
	go watchSchema(ctx, cfg, db, log)
	return db, nil
}

// watchSchema checks the schema once the database answers, retrying until
// it passes or ctx ends.
func watchSchema(ctx context.Context, cfg config.Config, db *gorm.DB, log *slog.Logger) {
	check := schemaCheck(cfg)
	var lastLogged time.Time
	for {
		err := store.Ping(ctx, db)
		if err == nil {
			if err = check(ctx, db); err == nil {
				log.Info("the database answers and its schema is up to date")
				return
			}
			if time.Since(lastLogged) >= time.Minute {
				log.Error("the database answers but its schema is not ready", "error", err)
				lastLogged = time.Now()
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Second):
		}
	}
}

func closeDB(db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// dataConverter encrypts payloads with PAYLOAD_KEY; running without one must be asked for.
func dataConverter(cfg config.Config) (converter.DataConverter, *codec.Keyring, error) {
	if cfg.Codec.PayloadKey == "" {
		if cfg.Codec.AllowUnencrypted {
			return nil, nil, nil
		}
		return nil, nil, errors.New("PAYLOAD_KEY is not set: set it to base64 of 32 random bytes (openssl rand -base64 32), or set ALLOW_UNENCRYPTED_PAYLOADS=true to store payloads in Temporal in clear text")
	}
	k, err := codec.ParseKeyring(cfg.Codec.PayloadKey, cfg.Codec.PayloadOldKeys)
	if err != nil {
		return nil, nil, err
	}
	return codec.DataConverter(k), k, nil
}

// SyncPolicy is the ERP sync's retry policy, as configured: what the
// activities hand every record workflow they start.
func SyncPolicy(cfg config.Config) flow.SyncPolicy {
	return flow.SyncPolicy{
		RetryBudget:     cfg.ERP.RetryBudget,
		AttemptTimeout:  cfg.ERP.AttemptTimeout,
		InitialInterval: cfg.ERP.RetryInitial,
		MaximumInterval: cfg.ERP.RetryMaxInterval,
	}
}

// Bridge is the API and/or the worker over one database and one Temporal client.
type Bridge struct {
	cfg      config.Config
	log      *slog.Logger
	db       *gorm.DB
	edgeDB   *gorm.DB // the webhooks' own pool (the same as db on SQLite)
	temporal client.Client
	metrics  *metrics.Metrics
	erp      erp.Sink
	vendors  *vendors.Registry
	listener net.Listener
	tracing  *tracing.Tracing
	draining atomic.Bool
}

// BridgeDeps are a Bridge's dependencies; Config is the only required part
// besides DB and Temporal.
type BridgeDeps struct {
	// Config is FromEnv's, or config.Default() with changes; NewBridge
	// refuses one that does not validate.
	Config config.Config
	Logger *slog.Logger
	DB     *gorm.DB
	// EdgeDB is the webhooks' own pool of the same database, so that storing
	// a callback never waits for a connection the worker or the relay holds;
	// nil: DB.
	EdgeDB   *gorm.DB
	Temporal client.Client
	Metrics  *metrics.Metrics // nil: a fresh registry
	// ERP is the sink the worker sends records to; nil: the one ERP_KIND
	// chooses (NewSink), built by Run when it starts the worker.
	ERP erp.Sink
	// Vendors are the vendors taken; nil: every vendor of vendors/registry, configured from Config.
	Vendors *vendors.Registry
	// Listener, when set, is where the HTTP side serves instead of HTTP_ADDR / METRICS_ADDR.
	Listener net.Listener
	// Tracing traces the webhooks, the relay and the sends to the ERP (the
	// Temporal client traces the rest when dialled with the same); nil: off.
	Tracing *tracing.Tracing
}

// NewBridge builds a Bridge from its dependencies.
func NewBridge(d BridgeDeps) (*Bridge, error) {
	if err := d.Config.Validate(); err != nil {
		return nil, err
	}
	if d.Vendors == nil {
		reg, err := registry.New(d.Config)
		if err != nil {
			return nil, err
		}
		d.Vendors = reg
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Metrics == nil {
		d.Metrics = metrics.New()
	}
	if d.EdgeDB == nil {
		d.EdgeDB = d.DB
	}
	if d.Tracing == nil {
		d.Tracing = tracing.Off()
	}
	return &Bridge{cfg: d.Config, log: d.Logger, db: d.DB, edgeDB: d.EdgeDB, temporal: d.Temporal, metrics: d.Metrics, listener: d.Listener,
		vendors: d.Vendors, erp: d.ERP, tracing: d.Tracing}, nil
}

// serveBridge runs the API, the worker or both until ctx ends, then shuts down gracefully.
func serveBridge(ctx context.Context, cfg config.Config, log *slog.Logger, withAPI, withWorker bool) error {
	dc, _, err := dataConverter(cfg)
	if err != nil {
		return err
	}
	if len(cfg.Vendors.AutoX3AppSecrets()) == 0 && withAPI {
		log.Warn("AUTOX3_APP_SECRET is not set: every AutoX3 callback will be refused")
	}
	if len(cfg.Vendors.FenbeitongTokens()) == 0 && withAPI {
		log.Warn("FENBEITONG_TOKEN is not set: every Fenbeitong push will be refused")
	}
	tr, stopTracing, err := startTracing(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer stopTracing()
	var sink erp.Sink
	if withWorker {
		// The ERP's settings and mapping are checked before anything starts.
		if sink, err = NewSink(cfg, log, tr.Transport); err != nil {
			return err
		}
	}
	db, err := openServingDB(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer closeDB(db)
	edgeDB := db
	if withAPI && cfg.Store.MySQLDSN != "" {
		// The webhooks' own pool: a callback is stored in a short
		// transaction on a connection nothing else holds.
		if edgeDB, err = store.OpenPool(cfg.Store.MySQLDSN); err != nil {
			return err
		}
		defer closeDB(edgeDB)
		if sqlDB, err := edgeDB.DB(); err == nil {
			sqlDB.SetMaxOpenConns(cfg.Store.EdgeConns)
			sqlDB.SetMaxIdleConns(cfg.Store.EdgeConns)
		}
	}
	m := metrics.New()
	// A process with the api connects lazily: it starts and takes callbacks
	// while Temporal is unreachable. A worker alone fails at once instead, so
	// its supervisor restarts it.
	c, err := temporalclient.Dial(ctx, cfg, temporalclient.DialOptions{DataConverter: dc, Registerer: m.Registry, Logger: log, Lazy: withAPI, Tracing: tr})
	if err != nil {
		return err
	}
	defer c.Close()
	b, err := NewBridge(BridgeDeps{Config: cfg, Logger: log, DB: db, EdgeDB: edgeDB, Temporal: c, Metrics: m, ERP: sink, Tracing: tr})
	if err != nil {
		return err
	}
	return b.Run(ctx, withAPI, withWorker)
}

// Run serves until ctx ends. On shutdown readiness fails and the webhooks
// answer 503 (so vendors redeliver) for DRAIN_WINDOW, then the listener
// closes letting requests in flight finish, then the worker drains its
// running activities.
func (b *Bridge) Run(ctx context.Context, withAPI, withWorker bool) error {
	// Everything that can fail is built and bound first, so a failure leaves
	// nothing running: the handlers, then the listeners.
	var servers []*http.Server
	var relay *intake.Relay
	if withWorker && b.erp == nil {
		sink, err := NewSink(b.cfg, b.log, b.tracing.Transport)
		if err != nil {
			return err
		}
		b.erp = sink
	}
	// The reconciliation's activities, in the worker, are the open API's
	// only callers.
	var fbtAPI *openapi.Client
	if withWorker {
		var err error
		if fbtAPI, err = fenbeitongAPI(b.cfg, b.tracing.Transport(nil)); err != nil {
			return err
		}
	}
	if withAPI {
		relay = intake.NewRelay(store.New(b.db), b.temporal, b.cfg.Temporal.TaskQueue, b.metrics, b.log)
		relay.Tracing = b.tracing
		deps := api.Deps{Config: b.cfg, Temporal: b.temporal, Store: store.New(b.edgeDB), Vendors: b.vendors, Relay: relay,
			Metrics: b.metrics, Logger: b.log, Draining: b.draining.Load, Tracing: b.tracing}
		router, err := api.NewRouter(deps)
		if err != nil {
			return err
		}
		servers = append(servers, api.NewServer(b.cfg, router))
		if b.cfg.HTTP.AdminAddr != "" {
			admin, err := api.NewAdminHandler(deps)
			if err != nil {
				return err
			}
			servers = append(servers, api.NewAdminServer(b.cfg.HTTP.AdminAddr, admin))
		}
	} else {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", promhttp.HandlerFor(b.metrics.Registry, promhttp.HandlerOpts{}))
		mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, `{"status":"ok"}`) })
		servers = append(servers, api.NewAdminServer(b.cfg.HTTP.MetricsAddr, mux))
	}
	if b.cfg.HTTP.PprofAddr != "" {
		servers = append(servers, newPprofServer(b.cfg.HTTP.PprofAddr))
	}
	listeners := make([]net.Listener, len(servers))
	for i, srv := range servers {
		ln := b.listener
		if i > 0 || ln == nil {
			var err error
			if ln, err = net.Listen("tcp", srv.Addr); err != nil {
				for _, open := range listeners[:i] {
					if open != b.listener {
						_ = open.Close()
					}
				}
				return fmt.Errorf("listen on %s: %w", srv.Addr, err)
			}
		}
		listeners[i] = ln
	}

	errc := make(chan error, len(servers))
	runCtx, stopBackground := context.WithCancel(ctx)
	defer stopBackground()
	var background sync.WaitGroup
	var w *workerHandle
	if withWorker {
		acts := &activities.Activities{
			Store: store.New(b.db), Vendors: b.vendors, ERP: b.erp, Temporal: b.temporal,
			TaskQueue: b.cfg.Temporal.TaskQueue, BulkTaskQueue: b.cfg.BulkTaskQueue(), BulkRecordIdle: b.cfg.Split.RecordIdleTimeout,
			SplitBatchSize: b.cfg.Split.BatchSize, SplitNotifyConcurrency: b.cfg.Split.NotifyConcurrency,
			Policy: SyncPolicy(b.cfg), Fenbeitong: fbtAPI, Metrics: b.metrics, Logger: b.log, Tracing: b.tracing,
		}
		w = startWorker(runCtx, b, acts)
	}
	if withAPI {
		background.Add(2)
		go func() { defer background.Done(); relay.Run(runCtx) }()
		go func() {
			defer background.Done()
			intake.WatchParked(runCtx, store.New(b.db), b.metrics, b.log, intake.GaugesEvery)
		}()
	}
	for i, srv := range servers {
		ln := listeners[i]
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
		if withAPI || srv.Addr == b.cfg.HTTP.PprofAddr {
			b.log.Info("listening", "addr", ln.Addr().String(), "admin", i > 0)
		}
	}

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	b.draining.Store(true)
	if withAPI && b.cfg.HTTP.DrainWindow > 0 && runErr == nil {
		// Readiness fails and new callbacks get 503 while the load balancer takes this replica out.
		b.log.Info("draining: answering 503 before closing the listener", "window", b.cfg.HTTP.DrainWindow.String())
		time.Sleep(b.cfg.HTTP.DrainWindow)
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), b.cfg.HTTP.ShutdownTimeout)
	defer cancel()
	for _, srv := range servers {
		if err := srv.Shutdown(shutdownCtx); err != nil && runErr == nil {
			runErr = fmt.Errorf("http shutdown: %w", err)
		}
	}
	stopBackground()
	background.Wait()
	w.stop() // waits for running activities up to WorkerStopTimeout
	b.log.Info("stopped")
	return runErr
}

// workerHandle is the process's workers (the task queue's and the bulk
// task queue's), started in the background once Temporal answers.
type workerHandle struct {
	mu      sync.Mutex
	w       []sdkworker.Worker
	stopped bool
	done    chan struct{}
}

// startWorker starts the worker, retrying in the background while Temporal
// is unreachable, so a process that also serves the api keeps taking
// callbacks meanwhile.
func startWorker(ctx context.Context, b *Bridge, acts *activities.Activities) *workerHandle {
	h := &workerHandle{done: make(chan struct{})}
	go func() {
		defer close(h.done)
		backoff := time.Second
		for {
			wk := worker.New(b.temporal, b.cfg, acts)
			bulk := worker.NewBulk(b.temporal, b.cfg, acts)
			h.mu.Lock()
			if h.stopped {
				h.mu.Unlock()
				return
			}
			err := wk.Start()
			if err == nil {
				if err = bulk.Start(); err != nil {
					wk.Stop()
				}
			}
			if err == nil {
				h.w = []sdkworker.Worker{wk, bulk}
				h.mu.Unlock()
				b.log.Info("worker started", "task_queue", b.cfg.Temporal.TaskQueue, "bulk_task_queue", b.cfg.BulkTaskQueue(),
					"namespace", b.cfg.Temporal.Namespace, "store", b.cfg.StoreName(), "erp", describeERP(b.cfg))
				if b.cfg.Schedules.Enabled {
					keepSchedules(ctx, b)
				}
				return
			}
			h.mu.Unlock()
			b.log.Warn("worker cannot start yet; retrying", "task_queue", b.cfg.Temporal.TaskQueue, "error", err, "retry_in", backoff.String())
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 30*time.Second)
		}
	}()
	return h
}

// keepSchedules creates or updates the schedules once the worker runs,
// retrying with backoff while Temporal refuses, until ctx ends.
func keepSchedules(ctx context.Context, b *Bridge) {
	backoff := time.Second
	for {
		err := ensureSchedules(ctx, b.temporal, b.cfg, b.log)
		if err == nil || ctx.Err() != nil {
			return
		}
		b.log.Warn("schedules cannot be set up yet; retrying", "error", err, "retry_in", backoff.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Minute)
	}
}

// stop stops the worker if it started; a nil handle does nothing.
func (h *workerHandle) stop() {
	if h == nil {
		return
	}
	h.mu.Lock()
	h.stopped = true
	ws := h.w
	h.mu.Unlock()
	// Both at once: each waits up to WORKER_STOP_TIMEOUT for its activities.
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Go(w.Stop)
	}
	wg.Wait()
}

func serveCodec(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	if cfg.Codec.PayloadKey == "" {
		return errors.New("PAYLOAD_KEY is not set: the codec server needs the key the workers encrypt with")
	}
	k, err := codec.ParseKeyring(cfg.Codec.PayloadKey, cfg.Codec.PayloadOldKeys)
	if err != nil {
		return err
	}
	db, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeDB(db)
	srv := codecServer(cfg, k, db, log)
	log.Info("codec server listening", "addr", cfg.Codec.Addr, "key_id", k.ActiveKeyID(), "token_required", cfg.Codec.ServerToken != "")
	return serveUntil(ctx, srv, cfg.HTTP.ShutdownTimeout)
}

// codecServer is the codec server as configured, decoding with the
// workers' keyring k; it shows operators the stored callbacks in db that
// workflow inputs name by their claim checks.
func codecServer(cfg config.Config, k *codec.Keyring, db *gorm.DB, log *slog.Logger) *http.Server {
	return codec.NewHTTPServer(cfg.Codec.Addr, codec.NewCodec(k), codecOptions(cfg, store.New(db).ResolveClaimCheck, log))
}

// codecOptions are the codec server's settings from the configuration.
func codecOptions(cfg config.Config, resolve codec.Resolver, log *slog.Logger) codec.ServerOptions {
	return codec.ServerOptions{
		Token: cfg.Codec.ServerToken, AllowedOrigins: cfg.Codec.CORSOrigins, Resolve: resolve,
		MaxBodyBytes: cfg.Codec.MaxBodyBytes, ReadTimeout: cfg.Codec.ReadTimeout, WriteTimeout: cfg.Codec.WriteTimeout,
		Logger: log,
	}
}

// serveUntil serves srv until ctx ends, then shuts it down gracefully.
func serveUntil(ctx context.Context, srv *http.Server, grace time.Duration) error {
	h, err := startHTTP(srv)
	if err != nil {
		return err
	}
	select {
	case err := <-h.failed:
		return err
	case <-ctx.Done():
	}
	return h.stop(grace)
}

// httpServer is a server started in the background by startHTTP.
type httpServer struct {
	srv    *http.Server
	failed <-chan error // receives the error if serving stops on its own
}

// startHTTP listens on srv.Addr and serves in the background.
func startHTTP(srv *http.Server) (*httpServer, error) {
	ln, err := net.Listen("tcp", srv.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", srv.Addr, err)
	}
	failed := make(chan error, 1)
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			failed <- err
		}
	}()
	return &httpServer{srv: srv, failed: failed}, nil
}

// stop shuts the server down, letting requests in flight finish within grace.
func (h *httpServer) stop(grace time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	return h.srv.Shutdown(ctx)
}

// localURL turns a listen address like ":8080" into a URL a person can open.
func localURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// absData resolves a path inside the data directory.
func absData(dir, name string) string {
	p := filepath.Join(dir, name)
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
