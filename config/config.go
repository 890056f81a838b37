// Package config is the configuration of every erpbridge command: every
// default in one value (Default), the environment laid over it once
// (FromEnv), and one validation pass (Validate). Nothing else in the service
// reads the environment, and no other package keeps a default of its own
// for a setting held here. docs/configuration.md is the reference of every
// variable; a test keeps the two in step.
package config

import (
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"time"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/kingdee"
	"github.com/erpbridge/erpbridge/erp/tryton"
	"github.com/erpbridge/erpbridge/vendors/fenbeitong/openapi"
)

// Profiles: production refuses settings that are only safe on a developer's
// machine; dev is what `erpbridge dev` runs with.
const (
	ProfileProduction = "production"
	ProfileDev        = "dev"
)

// Stores.
const (
	StoreMySQL  = "mysql"
	StoreSQLite = "sqlite"
)

// Margins of the defaults derived from ERP_TIMEOUT.
const (
	// erpAttemptMargin is what one ERP sync attempt has beyond the ERP call:
	// loading the record before it and recording the outcome after.
	erpAttemptMargin = 15 * time.Second
	// workerStopMargin is what a stopping worker gives beyond an ERP call
	// that has started, so the call and its outcome's write can finish.
	workerStopMargin = 5 * time.Second
	// connectorSendCalls is how many of its calls at their longest one send
	// to a connector (ERP_KIND kingdee or tryton) has room for by default:
	// ERP_TIMEOUT defaults to this many KINGDEE_TIMEOUTs or TRYTON_TIMEOUTs.
	// A Kingdee send is a look-up and a save, with now and then a login and
	// a repeat; a Tryton send a dozen quick calls.
	connectorSendCalls = 4
	// connectorMinCalls is the fewest calls at their longest that ERP_TIMEOUT
	// must leave room for: the look-up of the record's document and its
	// create or update.
	connectorMinCalls = 2
)

// Config is the whole configuration of every erpbridge command. Build it with
// FromEnv, or from Default() with the fields a test needs set: a zero Config
// is never valid.
type Config struct {
	// Profile is ProfileProduction or ProfileDev (ERPBRIDGE_PROFILE, default
	// production; dev for `erpbridge dev`).
	Profile string

	HTTP      HTTP
	Store     Store
	Temporal  Temporal
	ERP       ERP
	Kingdee   Kingdee
	Tryton    Tryton
	Codec     Codec
	Vendors   Vendors
	Reconcile Reconcile
	Split     Split
	Schedules Schedules
	Dev       Dev
	Log       Log
	Tracing   Tracing
}

// HTTP is the api's webhook port and the other HTTP addresses of a process.
type HTTP struct {
	// Addr is where the api serves the webhooks (HTTP_ADDR, default ":8080").
	Addr string
	// AdminAddr, when set, serves /readyz and /metrics on their own address
	// instead of the webhook port (ADMIN_ADDR, e.g. "127.0.0.1:9090").
	AdminAddr string
	// MetricsAddr is where a worker-only process serves /metrics and /healthz
	// (METRICS_ADDR, default ":9091").
	MetricsAddr string
	// PprofAddr, when set, serves Go's runtime profiles (net/http/pprof:
	// heap, CPU, goroutines) on their own address, for diagnosis (PPROF_ADDR,
	// e.g. "127.0.0.1:6060"; default off). They show the process's internals
	// and have no authentication: bind it to loopback or a private network.
	PprofAddr string
	// ReadTimeout bounds the arrival of a webhook request, its headers and
	// body (HTTP_READ_TIMEOUT, default 10s: a callback is a few kilobytes,
	// and even MAX_BODY_BYTES' 1 MiB arrives in 8 s at 1 Mbit/s); the api
	// derives its write timeout from it, so a slow sender is cut off but a
	// normal answer never is.
	ReadTimeout time.Duration
	// MaxBodyBytes is the callback body limit (MAX_BODY_BYTES, default 1 MiB).
	MaxBodyBytes int64
	// WebhookConcurrency caps the webhook requests one process handles at
	// once; past it the webhooks answer 503 at once, so the vendor redelivers
	// (WEBHOOK_MAX_CONCURRENT, default 64).
	WebhookConcurrency int
	// TrustedProxies lists proxies whose X-Forwarded-For is believed
	// (TRUSTED_PROXIES, CIDRs or addresses, comma-separated); empty trusts none.
	TrustedProxies []string
	// ShutdownTimeout bounds in-flight HTTP requests once the listener
	// closes (SHUTDOWN_TIMEOUT, default 10s).
	ShutdownTimeout time.Duration
	// DrainWindow is how long, after SIGTERM, the webhooks keep answering 503
	// (so vendors redeliver) while readiness fails, before the listener
	// closes (DRAIN_WINDOW, default 5s; 0 closes at once).
	DrainWindow time.Duration
	// StoreTimeout is how long the edge waits for the store to take a
	// callback before it keeps it through Temporal instead, carried in its
	// workflow's start (EDGE_STORE_TIMEOUT, default 1s). After a failure the
	// edge goes to Temporal at once for a second, then tries the store again.
	StoreTimeout time.Duration
	// TemporalTimeout is how long the edge waits for Temporal to start a
	// callback's workflow when the store could not take it
	// (EDGE_TEMPORAL_TIMEOUT, default 2s). With StoreTimeout it bounds an
	// acknowledgement: a vendor that redelivers after 2 s sees one within
	// that only while one of the two answers promptly.
	TemporalTimeout time.Duration
}

// Store is the database that keeps every callback and every record's newest state.
type Store struct {
	// Kind is StoreMySQL or StoreSQLite (STORE). Unset, it is MySQL when
	// MYSQL_DSN is set, SQLite in the dev profile, and empty otherwise, which
	// Require refuses.
	Kind string
	// MySQLDSN selects MySQL (MYSQL_DSN, go-sql-driver format). MYSQL_PASSWORD,
	// when set, is put into it, so the DSN itself need not hold the secret.
	MySQLDSN string
	// SQLitePath is the embedded database file used without MySQL
	// (SQLITE_PATH, default DATA_DIR/erpbridge.db).
	SQLitePath string
	// AutoMigrate lets api, worker and all migrate the schema at start
	// (AUTO_MIGRATE; default true in the dev profile; refused in production,
	// where the migrate command does it).
	AutoMigrate bool
	// MaxOpenConns and MaxIdleConns size each process's MySQL pool
	// (DB_MAX_OPEN_CONNS, default 32; DB_MAX_IDLE_CONNS, default 8).
	MaxOpenConns, MaxIdleConns int
	// EdgeConns sizes the MySQL pool of the api's webhooks, apart from the
	// rest of the process (the relay, the worker), so that storing a
	// callback never waits for a connection the worker holds
	// (DB_EDGE_CONNS, default 4; all kept idle). SQLite has one pool, whose
	// write gate lets the webhooks' writes go first.
	EdgeConns int
}

// Temporal is the Temporal frontend, namespace and task queue, and the worker's settings.
type Temporal struct {
	// Address is the frontend host:port (TEMPORAL_ADDRESS, default "127.0.0.1:7233").
	Address string
	// Namespace (TEMPORAL_NAMESPACE, default "default").
	Namespace string
	// TaskQueue (TEMPORAL_TASK_QUEUE, default "erpbridge").
	TaskQueue string
	// NamespaceRetention is how long closed workflows are kept when setup
	// creates the namespace (TEMPORAL_NAMESPACE_RETENTION, default 720h = 30 days).
	NamespaceRetention time.Duration
	// TLSCert is the PEM client certificate for mTLS, as Temporal Cloud
	// issues (TEMPORAL_TLS_CERT, a file; needs TEMPORAL_TLS_KEY).
	TLSCert string
	// TLSKey is the PEM private key of TLSCert (TEMPORAL_TLS_KEY, a file).
	TLSKey string
	// TLSCA is a PEM bundle of CAs trusted for the frontend instead of the
	// system's (TEMPORAL_TLS_CA, a file, optional).
	TLSCA string
	// TLSServerName is the name the frontend's certificate must carry, when
	// not the host of TEMPORAL_ADDRESS (TEMPORAL_TLS_SERVER_NAME, optional).
	TLSServerName string
	// APIKey is sent as a bearer token on every Temporal call
	// (TEMPORAL_API_KEY, Temporal Cloud's API keys); it implies TLS.
	APIKey string
	// Gzip compresses the requests to Temporal's frontend with gzip
	// (TEMPORAL_GRPC_COMPRESSION=gzip; default none). The SDK's default is
	// gzip, but erpbridge's payloads are encrypted, which leaves nothing to
	// compress: both ends would spend CPU to send the same bytes.
	Gzip bool
	// WorkflowCacheSize is how many workflow executions a worker process
	// keeps in memory between their workflow tasks (the Temporal SDK's
	// sticky workflow cache, WORKFLOW_CACHE_SIZE, default 1,000, a tenth of
	// the SDK's 10,000). Past it the least recently used is evicted and
	// replayed from its history when it next has work. Every record workflow
	// stays open (and so cached) for its idle timeout after its sync, and a
	// cached workflow costs the process about 65 KiB (its state, its
	// coroutines' stacks and the GC's headroom over them): 1,000 keep the
	// `all` process of the 2,500-record burst at about 145 MiB against
	// 240 MiB with the SDK's default.
	WorkflowCacheSize int
	// WorkerStopTimeout bounds the worker's wait for running activities on
	// shutdown (WORKER_STOP_TIMEOUT, default ERP_TIMEOUT + 5s, so an ERP call
	// that has started can finish).
	WorkerStopTimeout time.Duration
	// MaxPayloadBytes is the largest payload the Temporal server takes
	// (TEMPORAL_MAX_PAYLOAD_BYTES, default 2 MiB, the server's own default
	// limit.blobSize.error). A callback the store cannot take is carried in
	// its workflow's start only while its encoded input fits; a larger one is
	// answered 503, so the vendor delivers it again.
	MaxPayloadBytes int64
}

// ERP is the ERP the records go to, and how its sync retries.
type ERP struct {
	// Kind chooses the sink every record goes to (ERP_KIND, default http):
	// erp.KindHTTP posts to the HTTP contract at URL, erp.KindKingdee saves
	// bills in Kingdee K3Cloud (the Kingdee settings), erp.KindTryton writes
	// documents in Tryton (the Tryton settings).
	Kind string
	// Mapping is a mapping file that replaces the default mapping of a
	// kingdee or tryton sink (ERP_MAPPING; default: the mapping embedded in
	// erpbridge, erp/mapping/defaults/<kind>.yaml). The http sink has none.
	Mapping string
	// URL is the ERP's base URL, http or https (ERP_URL, default the ERP
	// simulator at ERPSIM_ADDR on this machine, "http://127.0.0.1:8090",
	// which the production profile refuses). The http sink's only.
	URL string
	// Token is sent as a bearer token to the ERP (ERP_TOKEN); the http sink's only.
	Token string
	// Timeout bounds one send of a record state (ERP_TIMEOUT): for the http
	// sink its one call (default 30s); for kingdee and tryton every call of
	// the send together, each call also bounded by KINGDEE_TIMEOUT or
	// TRYTON_TIMEOUT (default 4 of those: 2m).
	Timeout time.Duration
	// AttemptTimeout bounds one attempt of the sync activity: the send and
	// the database steps around it. It is ERP_TIMEOUT + 15s, and has no
	// variable of its own.
	AttemptTimeout time.Duration
	// RetryBudget is how long an ERP sync keeps retrying (ERP_RETRY_BUDGET,
	// default 168h = 7 days).
	RetryBudget time.Duration
	// RetryInitial is the first backoff of an ERP retry (ERP_RETRY_INITIAL,
	// default 1s); it doubles each time.
	RetryInitial time.Duration
	// RetryMaxInterval caps the backoff between ERP retries
	// (ERP_RETRY_MAX_INTERVAL, default 10m).
	RetryMaxInterval time.Duration
}

// Kingdee is how the kingdee sink reaches and logs in to one Kingdee K3Cloud
// data centre: the connector's own settings (package erp/kingdee), from the
// KINGDEE_ variables. The worker checks them at start when
// ERP_KIND=kingdee; `erpbridge erpsim --kind kingdee` takes the credentials
// from them too.
type Kingdee = kingdee.Config

// Tryton is how the tryton sink reaches one Tryton database over JSON-RPC:
// the connector's own settings (package erp/tryton), from the TRYTON_
// variables. The worker checks them at start when ERP_KIND=tryton;
// deploy/tryton/up.sh prints the first four.
type Tryton = tryton.Config

// callTimeout is the bound of one call of the connector ERP_KIND names, 0
// for the http sink (whose one call is the whole send).
func (c Config) callTimeout() time.Duration {
	switch c.ERP.Kind {
	case erp.KindKingdee:
		return c.Kingdee.Timeout
	case erp.KindTryton:
		return c.Tryton.Timeout
	}
	return 0
}

// callTimeoutVariable names callTimeout's variable.
func (c Config) callTimeoutVariable() string {
	return strings.ToUpper(c.ERP.Kind) + "_TIMEOUT"
}

// Codec is the encryption of payloads in Temporal, and the codec server
// that decrypts them for the Web UI and the CLI.
type Codec struct {
	// PayloadKey is the active payload encryption key, base64 of 32 bytes (PAYLOAD_KEY).
	PayloadKey string
	// PayloadOldKeys are older keys still accepted for decryption
	// (PAYLOAD_OLD_KEYS, comma-separated).
	PayloadOldKeys string
	// AllowUnencrypted lets commands run without PAYLOAD_KEY (ALLOW_UNENCRYPTED_PAYLOADS=true).
	AllowUnencrypted bool
	// Addr is where the codec server listens (CODEC_ADDR, default ":8234";
	// "127.0.0.1:8234" for `erpbridge dev`).
	Addr string
	// ServerToken, when set, is required as a bearer token by the codec
	// server (CODEC_SERVER_TOKEN).
	ServerToken string
	// CORSOrigins are the UI origins allowed to call the codec server
	// (CODEC_CORS_ORIGINS, comma-separated; empty: the dev server's Web UI).
	CORSOrigins []string
	// ReadTimeout bounds the arrival of a codec request, its headers and
	// body (CODEC_READ_TIMEOUT, default 30s).
	ReadTimeout time.Duration
	// WriteTimeout bounds a codec request from the end of its headers to
	// the end of its answer (CODEC_WRITE_TIMEOUT, default 1m; it must be
	// longer than CODEC_READ_TIMEOUT, which it includes).
	WriteTimeout time.Duration
	// MaxBodyBytes caps a codec request body (CODEC_MAX_BODY_BYTES, default 16 MiB).
	MaxBodyBytes int64
}

// Vendors are the secrets and limits of the vendors whose callbacks are taken.
type Vendors struct {
	// AutoX3AppSecret is AUTOX3_APP_SECRET as configured: the secrets that
	// sign AutoX3 callbacks, comma-separated, newest first, so one can be
	// rotated; empty refuses every callback. Read it with AutoX3AppSecrets.
	AutoX3AppSecret string
	// FenbeitongToken is FENBEITONG_TOKEN as configured: the tokens accepted
	// as the pushes' token query parameter, comma-separated, newest first;
	// empty refuses every push. Read it with FenbeitongTokens.
	FenbeitongToken string
	// FenbeitongAllowedIPs limits push sources (FENBEITONG_ALLOWED_IPS,
	// comma-separated CIDRs or addresses; empty allows any).
	FenbeitongAllowedIPs []netip.Prefix
}

// Reconcile is the pull of Fenbeitong's car orders through its open API:
// pushes carry only the booked and cancelled states, so a schedule
// (fenbeitong-reconcile) lists the car orders of the last days and feeds
// each through the path of a push, which brings completed orders and their
// final fares, and orders whose push was lost. Off unless URL is set.
type Reconcile struct {
	// URL is the open API's base URL (FENBEITONG_API_URL; empty: no pull).
	URL string
	// AppID and AppKey fetch the access token (FENBEITONG_APP_ID,
	// FENBEITONG_APP_KEY, a secret); SignKey signs every call
	// (FENBEITONG_SIGN_KEY, a secret).
	AppID, AppKey, SignKey string
	// EmployeeID and EmployeeType name who lists the orders
	// (FENBEITONG_EMPLOYEE_ID; FENBEITONG_EMPLOYEE_TYPE, default "0", a
	// Fenbeitong user; "1" a third-party user).
	EmployeeID, EmployeeType string
	// TokenPath is the token endpoint's path (FENBEITONG_API_TOKEN_PATH,
	// default /openapi/auth/getToken): Fenbeitong's public pages do not pin it down.
	TokenPath string
	// RPS caps the calls a second (FENBEITONG_API_RPS, default 5).
	RPS int
	// PageSize is the orders a list call asks for (FENBEITONG_API_PAGE_SIZE,
	// default 50, at most 500).
	PageSize int
	// Every is how often the schedule runs (FENBEITONG_RECONCILE_EVERY, default 1h).
	Every time.Duration
	// Lookback is how far back, by creation date in UTC+8, a run lists
	// orders (FENBEITONG_RECONCILE_LOOKBACK, default 72h).
	Lookback time.Duration
}

// API is the open API client's configuration from these settings.
func (r Reconcile) API() openapi.Config {
	return openapi.Config{URL: r.URL, AppID: r.AppID, AppKey: r.AppKey, SignKey: r.SignKey,
		EmployeeID: r.EmployeeID, EmployeeType: r.EmployeeType, TokenPath: r.TokenPath, RPS: float64(r.RPS)}
}

// Split is how a message that changes several records (an AutoX3
// maintenance plan message of thousands of plans) is split into one event
// per record without stalling the rest: its workflow persists the parts in
// batches, one at a time, and their record workflows run on a task queue of
// their own (TEMPORAL_TASK_QUEUE with "-bulk" appended) whose share of each
// worker is bounded, so live callbacks' records keep flowing meanwhile.
type Split struct {
	// BatchSize is how many parts one step persists, in one transaction
	// (SPLIT_BATCH_SIZE, default 100).
	BatchSize int
	// NotifyConcurrency is how many of a batch's record workflows are told
	// at once (SPLIT_NOTIFY_CONCURRENCY, default 4).
	NotifyConcurrency int
	// BulkWorkflowTasks and BulkActivities bound what each worker runs at
	// once for the bulk task queue (BULK_WORKFLOW_TASKS, default 2;
	// BULK_ACTIVITIES, default 4), sized for 2 cores.
	BulkWorkflowTasks, BulkActivities int
	// RecordIdleTimeout is how long a bulk record workflow lingers, caught
	// up, before it closes (SPLIT_RECORD_IDLE, default 1m): thousands of
	// them would otherwise sit open, and cached, for the usual 10 minutes.
	RecordIdleTimeout time.Duration
}

// Schedules are the Temporal Schedules the workers keep: each worker
// creates or updates them when it starts, as `erpbridge setup` does, so
// they run once per period however many workers there are, visible (and
// pausable) in the Web UI.
type Schedules struct {
	// Enabled lets workers and setup create and update the schedules
	// (SCHEDULES, default true); false leaves them to an operator.
	Enabled bool
	// SweepEvery is how often the stale-record sweep runs (SWEEP_EVERY,
	// default 10m).
	SweepEvery time.Duration
	// StaleAfter is how long a record's newest state may wait unsent with
	// nothing writing its row before the sweep tells its record workflow
	// again (SWEEP_STALE_AFTER, default 1h). A record workflow at work writes
	// the row at every send attempt, at most ERP_RETRY_MAX_INTERVAL apart, so
	// it must be longer than that.
	StaleAfter time.Duration
}

// Dev is the local state and the tools of `erpbridge dev` and `erpbridge erpsim`.
type Dev struct {
	// DataDir holds local state (DATA_DIR, default ".data"): the default
	// SQLite file and simulator records, and the dev command's Temporal
	// database, payload key and generated secrets.
	DataDir string
	// TemporalUIPort is where the dev command serves the Temporal Web UI
	// (TEMPORAL_UI_PORT, default 8233).
	TemporalUIPort int
	// ERPSimAddr is where the ERP simulator listens (ERPSIM_ADDR, default ":8090").
	ERPSimAddr string
	// ERPSimData is the simulator's record file (ERPSIM_DATA, default DATA_DIR/erpsim.jsonl).
	ERPSimData string
	// FenbeitongSimAddr is where `erpbridge dev` serves a simulated
	// Fenbeitong open API for the reconciliation when FENBEITONG_API_URL is
	// not set (FENBEITONG_SIM_ADDR, default 127.0.0.1:8092).
	FenbeitongSimAddr string
}

// Tracing is OpenTelemetry tracing, read from the standard OTEL_ variables:
// off unless an exporter is chosen. The variables the OpenTelemetry SDK reads
// itself (the OTLP headers, timeout and certificates, OTEL_BSP_* for the
// batch processor, OTEL_TRACES_SAMPLER, OTEL_RESOURCE_ATTRIBUTES) are
// honoured as it reads them.
type Tracing struct {
	// Exporter is otlp, console (spans as JSON on stdout) or none
	// (OTEL_TRACES_EXPORTER; default otlp when an OTLP endpoint is set,
	// none otherwise; OTEL_SDK_DISABLED=true makes it none).
	Exporter string
	// Endpoint is the OTLP collector (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, or
	// OTEL_EXPORTER_OTLP_ENDPOINT; empty: none).
	Endpoint string
	// Protocol is grpc or http/protobuf (OTEL_EXPORTER_OTLP_TRACES_PROTOCOL,
	// or OTEL_EXPORTER_OTLP_PROTOCOL; default http/protobuf).
	Protocol string
	// ServiceName names the service in every span (OTEL_SERVICE_NAME,
	// default erpbridge).
	ServiceName string
}

// Tracing exporters.
const (
	TracesOTLP    = "otlp"
	TracesConsole = "console"
	TracesNone    = "none"
)

// OTLP protocols.
const (
	OTLPGRPC         = "grpc"
	OTLPHTTPProtobuf = "http/protobuf"
)

// Log is the service's logging.
type Log struct {
	// Level is debug, info, warn or error (LOG_LEVEL, default info; warn for
	// `erpbridge dev`).
	Level string
}

// Default is every default in one value: what FromEnv returns for an empty
// environment.
func Default() Config {
	c := Config{
		Profile: ProfileProduction,
		HTTP: HTTP{
			Addr:               ":8080",
			MetricsAddr:        ":9091",
			ReadTimeout:        10 * time.Second,
			MaxBodyBytes:       1 << 20,
			WebhookConcurrency: 64,
			ShutdownTimeout:    10 * time.Second,
			DrainWindow:        5 * time.Second,
			StoreTimeout:       time.Second,
			TemporalTimeout:    2 * time.Second,
		},
		Store: Store{MaxOpenConns: 32, MaxIdleConns: 8, EdgeConns: 4},
		Temporal: Temporal{
			Address:            "127.0.0.1:7233",
			Namespace:          "default",
			TaskQueue:          "erpbridge",
			NamespaceRetention: 30 * 24 * time.Hour,
			WorkflowCacheSize:  1000,
			MaxPayloadBytes:    2 << 20,
		},
		ERP: ERP{
			Kind:             erp.KindHTTP,
			Timeout:          30 * time.Second,
			RetryBudget:      7 * 24 * time.Hour,
			RetryInitial:     time.Second,
			RetryMaxInterval: 10 * time.Minute,
		},
		Kingdee: Kingdee{LCID: kingdee.DefaultLCID, MaxSessions: kingdee.DefaultMaxSessions, Timeout: kingdee.DefaultTimeout},
		Tryton:  Tryton{Timeout: tryton.DefaultTimeout, MaxConcurrent: tryton.DefaultMaxConcurrent},
		Codec: Codec{
			Addr:         ":8234",
			ReadTimeout:  30 * time.Second,
			WriteTimeout: time.Minute,
			MaxBodyBytes: 16 << 20,
		},
		Reconcile: Reconcile{EmployeeType: openapi.DefaultEmployeeType, TokenPath: openapi.DefaultTokenPath, RPS: int(openapi.DefaultRPS),
			PageSize: openapi.DefaultPageSize, Every: time.Hour, Lookback: 72 * time.Hour},
		Split:     Split{BatchSize: 100, NotifyConcurrency: 4, BulkWorkflowTasks: 2, BulkActivities: 4, RecordIdleTimeout: time.Minute},
		Schedules: Schedules{Enabled: true, SweepEvery: 10 * time.Minute, StaleAfter: time.Hour},
		Dev:       Dev{DataDir: ".data", TemporalUIPort: 8233, ERPSimAddr: ":8090", FenbeitongSimAddr: "127.0.0.1:8092"},
		Log:       Log{Level: "info"},
		Tracing:   Tracing{Exporter: TracesNone, Protocol: OTLPHTTPProtobuf, ServiceName: "erpbridge"},
	}
	c.derive(noneGiven)
	return c
}

// DevDefault is Default for `erpbridge dev`: the dev profile (the schema
// migrates at start, SQLite without MYSQL_DSN, the simulator as the ERP);
// the codec server on loopback, since it decrypts whatever it is sent; and
// warn logs, so the banner stays in sight.
func DevDefault() Config {
	c := Default()
	c.Profile = ProfileDev
	c.Codec.Addr = "127.0.0.1:8234"
	c.Log.Level = "warn"
	c.derive(noneGiven)
	return c
}

// noneGiven is derive's given for a Config no setting was given to.
func noneGiven(string) bool { return false }

// derive computes the defaults that follow other settings, each unless its
// own variable was given (given reports that by the variable's name). It is
// the one place these defaults are computed.
func (c *Config) derive(given func(variable string) bool) {
	if !given("SQLITE_PATH") {
		c.Store.SQLitePath = filepath.Join(c.Dev.DataDir, "erpbridge.db")
	}
	if !given("ERPSIM_DATA") {
		c.Dev.ERPSimData = filepath.Join(c.Dev.DataDir, "erpsim.jsonl")
	}
	if !given("ERP_URL") {
		c.ERP.URL = "http://" + Dialable(c.Dev.ERPSimAddr)
	}
	if call := c.callTimeout(); call > 0 && !given("ERP_TIMEOUT") {
		c.ERP.Timeout = connectorSendCalls * call
	}
	c.ERP.AttemptTimeout = c.ERP.Timeout + erpAttemptMargin
	if !given("WORKER_STOP_TIMEOUT") {
		c.Temporal.WorkerStopTimeout = c.ERP.Timeout + workerStopMargin
	}
	if !given("OTEL_TRACES_EXPORTER") {
		c.Tracing.Exporter = TracesNone
		if c.Tracing.Endpoint != "" {
			c.Tracing.Exporter = TracesOTLP
		}
	}
	if !given("AUTO_MIGRATE") {
		c.Store.AutoMigrate = c.Profile == ProfileDev
	}
	if !given("STORE") {
		switch {
		case c.Store.MySQLDSN != "":
			c.Store.Kind = StoreMySQL
		case c.Profile == ProfileDev:
			c.Store.Kind = StoreSQLite
		default:
			c.Store.Kind = ""
		}
	}
}

// AutoX3AppSecrets lists the AutoX3 app secrets, newest first (AUTOX3_APP_SECRET).
func (v Vendors) AutoX3AppSecrets() []string { return SplitList(v.AutoX3AppSecret) }

// FenbeitongTokens lists the accepted Fenbeitong tokens, newest first (FENBEITONG_TOKEN).
func (v Vendors) FenbeitongTokens() []string { return SplitList(v.FenbeitongToken) }

// ShutdownBudget is the longest a graceful shutdown of the API and/or the
// worker takes: the drain window (the API's readiness already failing), then
// in-flight HTTP requests (the API's, or a worker-only process's /metrics),
// then the worker's stop bound. A supervisor's kill timeout (Compose
// stop_grace_period) must be longer.
func (c Config) ShutdownBudget(api, worker bool) time.Duration {
	d := c.HTTP.ShutdownTimeout
	if api {
		d += c.HTTP.DrainWindow
	}
	if worker {
		d += c.Temporal.WorkerStopTimeout
	}
	return d
}

// BulkTaskQueue is the task queue of the records of split messages' parts:
// TEMPORAL_TASK_QUEUE with "-bulk" appended.
func (c Config) BulkTaskQueue() string { return c.Temporal.TaskQueue + "-bulk" }

// StoreName names the configured database for logs, without credentials.
func (c Config) StoreName() string {
	if c.Store.MySQLDSN != "" {
		return "mysql"
	}
	return "sqlite:" + c.Store.SQLitePath
}

// Dialable turns a listen address like ":8090" into one this machine can
// dial: an empty or unspecified host becomes 127.0.0.1; an address that is
// not host:port is returned as it is.
func Dialable(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// SplitList splits a comma-separated list, trimming entries and dropping
// empty ones.
func SplitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
