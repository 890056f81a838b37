// Package config reads the service's configuration from the environment, once,
// with documented defaults. Nothing else in the service reads the environment.
package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/go-sql-driver/mysql"
)

// Profiles: production refuses settings that are only safe on a developer's
// machine; dev is what `erpbridge dev` runs with.
const (
	ProfileProduction = "production"
	ProfileDev        = "dev"
)

// Defaults of the webhook server that the api also applies to a Config
// built without FromEnv (zero values).
const (
	// DefaultHTTPReadTimeout is HTTP_READ_TIMEOUT's default: a callback is a
	// few kilobytes, and even MAX_BODY_BYTES' 1 MiB arrives in 8 s at 1 Mbit/s.
	DefaultHTTPReadTimeout = 10 * time.Second
	// DefaultWebhookConcurrency is WEBHOOK_MAX_CONCURRENT's default (the
	// README's configuration table says why).
	DefaultWebhookConcurrency = 64
	// DefaultWorkflowCacheSize is WORKFLOW_CACHE_SIZE's default, a tenth of
	// the SDK's 10,000. Every record workflow stays open (and so cached)
	// for its idle timeout after its sync, and a cached workflow costs the
	// process about 65 KiB (its state, its coroutines' stacks and the GC's
	// headroom over them): 1,000 keep the `all` process of the 2,500-record
	// burst at about 145 MiB against 240 MiB with the SDK's default (README,
	// Performance). An evicted workflow is replayed from its history when it
	// next has work, which for an idle record workflow is its close.
	DefaultWorkflowCacheSize = 1000
)

// Stores.
const (
	StoreMySQL  = "mysql"
	StoreSQLite = "sqlite"
)

// secretVars may each be given as a file instead, NAME_FILE, the way Docker
// and Compose secrets are mounted.
var secretVars = []string{
	"MYSQL_DSN", "MYSQL_PASSWORD", "ERP_TOKEN", "AUTOX3_APP_SECRET", "FENBEITONG_TOKEN",
	"PAYLOAD_KEY", "PAYLOAD_OLD_KEYS", "CODEC_SERVER_TOKEN",
}

// Config is the whole configuration of every erpbridge command.
type Config struct {
	// Profile is ProfileProduction (ERPBRIDGE_PROFILE, the default) or ProfileDev.
	Profile string

	// HTTPAddr is where the API listens (HTTP_ADDR, default ":8080").
	HTTPAddr string
	// MySQLDSN selects MySQL (MYSQL_DSN, go-sql-driver format). MYSQL_PASSWORD,
	// when set, is put into it, so the DSN itself need not hold the secret.
	MySQLDSN string
	// Store is StoreMySQL or StoreSQLite (STORE). Unset, it is MySQL when
	// MYSQL_DSN is set, SQLite in the dev profile, and empty otherwise, which
	// Require refuses.
	Store string
	// AutoMigrate lets api, worker and all migrate the schema at start
	// (AUTO_MIGRATE; default true in dev; refused in production, where the
	// migrate command does it).
	AutoMigrate bool
	// DBMaxOpenConns and DBMaxIdleConns size each process's MySQL pool
	// (DB_MAX_OPEN_CONNS, default 32; DB_MAX_IDLE_CONNS, default 8).
	DBMaxOpenConns, DBMaxIdleConns int
	// SQLitePath is the embedded database file used without MySQL (SQLITE_PATH, default DATA_DIR/erpbridge.db).
	SQLitePath string

	// TemporalAddress is the frontend host:port (TEMPORAL_ADDRESS, default "127.0.0.1:7233").
	TemporalAddress string
	// TemporalNamespace (TEMPORAL_NAMESPACE, default "default").
	TemporalNamespace string
	// TaskQueue (TEMPORAL_TASK_QUEUE, default "erpbridge").
	TaskQueue string
	// NamespaceRetention is how long closed workflows are kept when setup
	// creates the namespace (TEMPORAL_NAMESPACE_RETENTION, default 720h = 30 days).
	NamespaceRetention time.Duration
	// TemporalTLSCert is the PEM client certificate for mTLS, as Temporal Cloud issues (TEMPORAL_TLS_CERT, a file; needs TEMPORAL_TLS_KEY).
	TemporalTLSCert string
	// TemporalTLSKey is the PEM private key of TemporalTLSCert (TEMPORAL_TLS_KEY, a file).
	TemporalTLSKey string
	// TemporalTLSCA is a PEM bundle of CAs trusted for the frontend instead of the system's (TEMPORAL_TLS_CA, a file, optional).
	TemporalTLSCA string
	// TemporalTLSServerName is the name the frontend's certificate must carry, when not the host of TEMPORAL_ADDRESS (TEMPORAL_TLS_SERVER_NAME, optional).
	TemporalTLSServerName string
	// TemporalAPIKey is sent as a bearer token on every Temporal call (TEMPORAL_API_KEY, Temporal Cloud's API keys); it implies TLS.
	TemporalAPIKey string

	// ERPURL is the ERP's base URL, http or https (ERP_URL, default the ERP
	// simulator at ERPSIM_ADDR on this machine, "http://127.0.0.1:8090",
	// which the production profile refuses).
	ERPURL string
	// ERPToken is sent as a bearer token to the ERP (ERP_TOKEN).
	ERPToken string
	// ERPTimeout bounds one ERP call (ERP_TIMEOUT, default 30s).
	ERPTimeout time.Duration
	// ERPRetryBudget is how long an ERP sync keeps retrying (ERP_RETRY_BUDGET, default 168h = 7 days).
	ERPRetryBudget time.Duration
	// ERPRetryInitial is the first backoff of an ERP retry (ERP_RETRY_INITIAL, default 1s); it doubles each time.
	ERPRetryInitial time.Duration
	// ERPRetryMaxInterval caps the backoff between ERP retries (ERP_RETRY_MAX_INTERVAL, default 10m).
	ERPRetryMaxInterval time.Duration

	// AutoX3AppSecret is AUTOX3_APP_SECRET as configured: the secrets that
	// sign AutoX3 callbacks, comma-separated, newest first, so one can be
	// rotated; empty refuses every callback. Read it with AutoX3AppSecrets.
	AutoX3AppSecret string
	// FenbeitongToken is FENBEITONG_TOKEN as configured: the tokens accepted
	// as the pushes' token query parameter, comma-separated, newest first;
	// empty refuses every push. Read it with FenbeitongTokens.
	FenbeitongToken string
	// FenbeitongAllowedIPs limits push sources (FENBEITONG_ALLOWED_IPS, comma-separated CIDRs or addresses).
	FenbeitongAllowedIPs []netip.Prefix
	// TrustedProxies lists proxies whose X-Forwarded-For is believed (TRUSTED_PROXIES, CIDRs); empty trusts none.
	TrustedProxies []string

	// MaxBodyBytes is the callback body limit (MAX_BODY_BYTES, default 1 MiB).
	MaxBodyBytes int64
	// HTTPReadTimeout bounds the arrival of a webhook request, its headers
	// and body (HTTP_READ_TIMEOUT, default 10s); the api derives its write
	// timeout from it, so a slow sender is cut off but a normal answer never is.
	HTTPReadTimeout time.Duration
	// WebhookConcurrency caps the webhook requests one process handles at
	// once; past it the webhooks answer 503 at once, so the vendor redelivers
	// (WEBHOOK_MAX_CONCURRENT, default 64).
	WebhookConcurrency int

	// PayloadKey is the active payload encryption key, base64 of 32 bytes (PAYLOAD_KEY).
	PayloadKey string
	// PayloadOldKeys are older keys still accepted for decryption (PAYLOAD_OLD_KEYS, comma-separated).
	PayloadOldKeys string
	// AllowUnencrypted lets commands run without PAYLOAD_KEY (ALLOW_UNENCRYPTED_PAYLOADS=true).
	AllowUnencrypted bool

	// CodecAddr is where the codec server listens (CODEC_ADDR, default ":8234").
	CodecAddr string
	// CodecServerToken, when set, is required as a bearer token by the codec server (CODEC_SERVER_TOKEN).
	CodecServerToken string
	// CodecCORSOrigins are the UI origins allowed to call the codec server (CODEC_CORS_ORIGINS, comma-separated).
	CodecCORSOrigins []string
	// CodecReadTimeout bounds the arrival of a codec request, its headers and
	// body (CODEC_READ_TIMEOUT, default 30s).
	CodecReadTimeout time.Duration
	// CodecWriteTimeout bounds a codec request from the end of its headers to
	// the end of its answer (CODEC_WRITE_TIMEOUT, default 1m; it must be
	// longer than CODEC_READ_TIMEOUT, which it includes).
	CodecWriteTimeout time.Duration
	// CodecMaxBodyBytes caps a codec request body (CODEC_MAX_BODY_BYTES, default 16 MiB).
	CodecMaxBodyBytes int64

	// ERPSimAddr is where the ERP simulator listens (ERPSIM_ADDR, default ":8090").
	ERPSimAddr string
	// ERPSimData is the simulator's record file (ERPSIM_DATA, default DATA_DIR/erpsim.jsonl).
	ERPSimData string

	// MetricsAddr is where a worker-only process serves /metrics and /healthz (METRICS_ADDR, default ":9091").
	MetricsAddr string

	// DataDir holds local state (DATA_DIR, default ".data"): the default
	// SQLite file and simulator records, and the dev command's Temporal
	// database, payload key and generated secrets.
	DataDir string
	// TemporalUIPort is where the dev command serves the Temporal Web UI (TEMPORAL_UI_PORT, default 8233).
	TemporalUIPort int
	// LogLevel is debug, info, warn or error (LOG_LEVEL, default info).
	LogLevel string
	// ShutdownTimeout bounds in-flight HTTP requests once the listener
	// closes (SHUTDOWN_TIMEOUT, default 10s).
	ShutdownTimeout time.Duration
	// WorkerStopTimeout bounds the worker's wait for running activities on
	// shutdown (WORKER_STOP_TIMEOUT, default ERP_TIMEOUT + 5s, so an ERP call
	// that has started can finish).
	WorkerStopTimeout time.Duration
	// AdminAddr, when set, serves /readyz and /metrics on their own address
	// instead of the webhook port (ADMIN_ADDR, e.g. "127.0.0.1:9090").
	AdminAddr string
	// WorkflowCacheSize is how many workflow executions a worker process
	// keeps in memory between their workflow tasks (the Temporal SDK's
	// sticky workflow cache, WORKFLOW_CACHE_SIZE). Past it the least recently
	// used is evicted and replayed from its history when it next has work.
	WorkflowCacheSize int
	// TemporalGzip compresses the requests to Temporal's frontend with gzip
	// (TEMPORAL_GRPC_COMPRESSION=gzip; default none). The SDK's default is
	// gzip, but erpbridge's payloads are encrypted, which leaves nothing to
	// compress: both ends would spend CPU to send the same bytes.
	TemporalGzip bool
	// PprofAddr, when set, serves Go's runtime profiles (net/http/pprof:
	// heap, CPU, goroutines) on their own address, for diagnosis (PPROF_ADDR,
	// e.g. "127.0.0.1:6060"; default off). They show the process's internals
	// and have no authentication: bind it to loopback or a private network.
	PprofAddr string
	// DrainWindow is how long, after SIGTERM, the webhooks keep answering 503
	// (so vendors redeliver) while readiness fails, before the listener
	// closes (DRAIN_WINDOW, default 5s; 0 closes at once).
	DrainWindow time.Duration
}

// FromEnv reads the configuration through getenv (os.Getenv in main).
func FromEnv(getenv func(string) string) (Config, error) {
	getenv, errs := withSecretFiles(getenv)
	get := func(key, def string) string {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			return v
		}
		return def
	}
	dataDir := get("DATA_DIR", ".data")
	simAddr := get("ERPSIM_ADDR", ":8090")
	c := Config{
		Profile:           strings.ToLower(get("ERPBRIDGE_PROFILE", ProfileProduction)),
		HTTPAddr:          get("HTTP_ADDR", ":8080"),
		MySQLDSN:          get("MYSQL_DSN", ""),
		SQLitePath:        get("SQLITE_PATH", filepath.Join(dataDir, "erpbridge.db")),
		TemporalAddress:   get("TEMPORAL_ADDRESS", "127.0.0.1:7233"),
		TemporalNamespace: get("TEMPORAL_NAMESPACE", "default"),
		TaskQueue:         get("TEMPORAL_TASK_QUEUE", "erpbridge"),
		TemporalTLSCert:   get("TEMPORAL_TLS_CERT", ""),
		TemporalTLSKey:    get("TEMPORAL_TLS_KEY", ""),
		TemporalTLSCA:     get("TEMPORAL_TLS_CA", ""),
		TemporalAPIKey:    get("TEMPORAL_API_KEY", ""),
		ERPURL:            get("ERP_URL", "http://"+loopback(simAddr)),
		ERPToken:          get("ERP_TOKEN", ""),
		AutoX3AppSecret:   get("AUTOX3_APP_SECRET", ""),
		FenbeitongToken:   get("FENBEITONG_TOKEN", ""),
		PayloadKey:        get("PAYLOAD_KEY", ""),
		PayloadOldKeys:    get("PAYLOAD_OLD_KEYS", ""),
		CodecAddr:         get("CODEC_ADDR", ":8234"),
		CodecServerToken:  get("CODEC_SERVER_TOKEN", ""),
		ERPSimAddr:        simAddr,
		ERPSimData:        get("ERPSIM_DATA", filepath.Join(dataDir, "erpsim.jsonl")),
		MetricsAddr:       get("METRICS_ADDR", ":9091"),
		AdminAddr:         get("ADMIN_ADDR", ""),
		PprofAddr:         get("PPROF_ADDR", ""),
		DataDir:           dataDir,
		LogLevel:          strings.ToLower(get("LOG_LEVEL", "info")),
	}
	if c.Profile != ProfileProduction && c.Profile != ProfileDev {
		errs = append(errs, fmt.Sprintf("ERPBRIDGE_PROFILE=%q must be %s or %s", c.Profile, ProfileProduction, ProfileDev))
	}
	dur := func(key string, def time.Duration) time.Duration {
		v := get(key, "")
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Sprintf("%s=%q is not a positive duration like 30s or 72h", key, v))
			return def
		}
		return d
	}
	posInt := func(key string, def int64) int64 {
		v := get(key, "")
		if v == "" {
			return def
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			errs = append(errs, fmt.Sprintf("%s=%q is not a positive integer", key, v))
			return def
		}
		return n
	}
	boolean := func(key string, def bool) bool {
		v := get(key, "")
		if v == "" {
			return def
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s=%q is not true or false", key, v))
			return def
		}
		return b
	}
	c.ERPTimeout = dur("ERP_TIMEOUT", 30*time.Second)
	c.ERPRetryBudget = dur("ERP_RETRY_BUDGET", 7*24*time.Hour)
	c.ERPRetryInitial = dur("ERP_RETRY_INITIAL", time.Second)
	c.ERPRetryMaxInterval = dur("ERP_RETRY_MAX_INTERVAL", 10*time.Minute)
	if c.ERPRetryMaxInterval < c.ERPRetryInitial {
		errs = append(errs, fmt.Sprintf("ERP_RETRY_MAX_INTERVAL (%s) is shorter than ERP_RETRY_INITIAL (%s)", c.ERPRetryMaxInterval, c.ERPRetryInitial))
	}
	c.NamespaceRetention = dur("TEMPORAL_NAMESPACE_RETENTION", 30*24*time.Hour)
	c.ShutdownTimeout = dur("SHUTDOWN_TIMEOUT", 10*time.Second)
	c.WorkerStopTimeout = dur("WORKER_STOP_TIMEOUT", c.ERPTimeout+5*time.Second)
	c.DrainWindow = 5 * time.Second
	if v := get("DRAIN_WINDOW", ""); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			errs = append(errs, fmt.Sprintf("DRAIN_WINDOW=%q is not a duration like 5s (0 for none)", v))
		} else {
			c.DrainWindow = d
		}
	}
	if c.PprofAddr != "" {
		if _, port, err := net.SplitHostPort(c.PprofAddr); err != nil || port == "" {
			errs = append(errs, fmt.Sprintf("PPROF_ADDR=%q is not a host:port like 127.0.0.1:6060", c.PprofAddr))
		}
	}
	c.TemporalTLSServerName = get("TEMPORAL_TLS_SERVER_NAME", "")
	if (c.TemporalTLSCert == "") != (c.TemporalTLSKey == "") {
		errs = append(errs, "TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together: set both for mTLS, or neither")
	}

	c.MaxBodyBytes = posInt("MAX_BODY_BYTES", 1<<20)
	c.HTTPReadTimeout = dur("HTTP_READ_TIMEOUT", DefaultHTTPReadTimeout)
	c.WebhookConcurrency = int(posInt("WEBHOOK_MAX_CONCURRENT", DefaultWebhookConcurrency))
	c.CodecReadTimeout = dur("CODEC_READ_TIMEOUT", 30*time.Second)
	c.CodecWriteTimeout = dur("CODEC_WRITE_TIMEOUT", time.Minute)
	if c.CodecWriteTimeout <= c.CodecReadTimeout {
		errs = append(errs, fmt.Sprintf("CODEC_WRITE_TIMEOUT (%s) must be longer than CODEC_READ_TIMEOUT (%s): the write timeout counts from the end of the headers, so it includes reading the body", c.CodecWriteTimeout, c.CodecReadTimeout))
	}
	c.CodecMaxBodyBytes = posInt("CODEC_MAX_BODY_BYTES", 16<<20)
	c.WorkflowCacheSize = int(posInt("WORKFLOW_CACHE_SIZE", DefaultWorkflowCacheSize))
	switch v := get("TEMPORAL_GRPC_COMPRESSION", "none"); v {
	case "none":
	case "gzip":
		c.TemporalGzip = true
	default:
		errs = append(errs, fmt.Sprintf("TEMPORAL_GRPC_COMPRESSION=%q must be none or gzip", v))
	}
	c.DBMaxOpenConns = int(posInt("DB_MAX_OPEN_CONNS", 32))
	c.DBMaxIdleConns = int(posInt("DB_MAX_IDLE_CONNS", 8))
	c.TemporalUIPort = 8233
	if v := get("TEMPORAL_UI_PORT", ""); v != "" {
		if p, err := strconv.ParseUint(v, 10, 16); err != nil || p == 0 {
			errs = append(errs, fmt.Sprintf("TEMPORAL_UI_PORT=%q is not a port number", v))
		} else {
			c.TemporalUIPort = int(p)
		}
	}
	c.AllowUnencrypted = boolean("ALLOW_UNENCRYPTED_PAYLOADS", false)
	c.AutoMigrate = boolean("AUTO_MIGRATE", c.Profile == ProfileDev)
	if c.AutoMigrate && c.Profile != ProfileDev {
		errs = append(errs, "AUTO_MIGRATE=true is refused in the production profile: run `erpbridge migrate` before api and worker")
	}
	errs = append(errs, c.resolveStore(get("STORE", ""), get("MYSQL_PASSWORD", ""))...)
	if err := checkERPURL(c.ERPURL); err != nil {
		errs = append(errs, err.Error())
	}
	for _, item := range splitList(getenv("FENBEITONG_ALLOWED_IPS")) {
		p, err := parsePrefix(item)
		if err != nil {
			errs = append(errs, fmt.Sprintf("FENBEITONG_ALLOWED_IPS entry %q: %v", item, err))
			continue
		}
		c.FenbeitongAllowedIPs = append(c.FenbeitongAllowedIPs, p)
	}
	for _, item := range splitList(getenv("TRUSTED_PROXIES")) {
		if _, err := parsePrefix(item); err != nil {
			errs = append(errs, fmt.Sprintf("TRUSTED_PROXIES entry %q: %v", item, err))
			continue
		}
		c.TrustedProxies = append(c.TrustedProxies, item)
	}
	c.CodecCORSOrigins = splitList(getenv("CODEC_CORS_ORIGINS"))
	errs = append(errs, checkSecretList("AUTOX3_APP_SECRET", c.AutoX3AppSecret)...)
	errs = append(errs, checkSecretList("FENBEITONG_TOKEN", c.FenbeitongToken)...)
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Sprintf("LOG_LEVEL=%q must be debug, info, warn or error", c.LogLevel))
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	return c, nil
}

// withSecretFiles returns a getenv that reads each secret from the file named
// by NAME_FILE when that is set. Setting both NAME and NAME_FILE is refused,
// as is a file that cannot be read; the messages never hold a secret.
func withSecretFiles(getenv func(string) string) (func(string) string, []string) {
	var errs []string
	fromFile := map[string]string{}
	for _, name := range secretVars {
		path := strings.TrimSpace(getenv(name + "_FILE"))
		if path == "" {
			continue
		}
		if strings.TrimSpace(getenv(name)) != "" {
			errs = append(errs, fmt.Sprintf("both %s and %s_FILE are set: keep one", name, name))
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s_FILE: %v", name, err))
			continue
		}
		fromFile[name] = strings.TrimSpace(string(b))
	}
	return func(k string) string {
		if v, ok := fromFile[k]; ok {
			return v
		}
		return getenv(k)
	}, errs
}

// AutoX3AppSecrets lists the AutoX3 app secrets, newest first (AUTOX3_APP_SECRET).
func (c Config) AutoX3AppSecrets() []string { return splitList(c.AutoX3AppSecret) }

// FenbeitongTokens lists the accepted Fenbeitong tokens, newest first (FENBEITONG_TOKEN).
func (c Config) FenbeitongTokens() []string { return splitList(c.FenbeitongToken) }

// checkSecretList refuses a secret list that is set but names no secret, or
// holds a control character (a secrets file with one secret per line, say,
// instead of commas). Entries are named by position, never by value.
func checkSecretList(name, value string) []string {
	if value == "" {
		return nil
	}
	list := splitList(value)
	if len(list) == 0 {
		return []string{fmt.Sprintf("%s lists no secret (only commas and spaces)", name)}
	}
	var errs []string
	for i, s := range list {
		if strings.IndexFunc(s, unicode.IsControl) >= 0 {
			errs = append(errs, fmt.Sprintf("%s entry %d holds a line break or another control character: separate secrets with commas", name, i+1))
		}
	}
	return errs
}

// resolveStore settles Store from STORE and MYSQL_DSN, and puts MYSQL_PASSWORD into the DSN.
func (c *Config) resolveStore(store, password string) []string {
	store = strings.ToLower(store)
	switch {
	case store != "" && store != StoreMySQL && store != StoreSQLite:
		return []string{fmt.Sprintf("STORE=%q must be %s or %s", store, StoreMySQL, StoreSQLite)}
	case store == StoreMySQL && c.MySQLDSN == "":
		return []string{"STORE=mysql but MYSQL_DSN is not set"}
	case store == StoreSQLite && c.MySQLDSN != "":
		return []string{"STORE=sqlite but MYSQL_DSN is set: keep one"}
	case store == "" && c.MySQLDSN != "":
		store = StoreMySQL
	case store == "" && c.Profile == ProfileDev:
		store = StoreSQLite
	}
	c.Store = store
	if password == "" {
		return nil
	}
	if c.MySQLDSN == "" {
		return []string{"MYSQL_PASSWORD is set but MYSQL_DSN is not"}
	}
	dsn, err := mysql.ParseDSN(c.MySQLDSN)
	if err != nil {
		return []string{"MYSQL_DSN is not a go-sql-driver DSN (user@tcp(host:3306)/db): " + err.Error()}
	}
	if dsn.Passwd != "" {
		return []string{"MYSQL_DSN holds a password and MYSQL_PASSWORD is set: keep one"}
	}
	dsn.Passwd = password
	c.MySQLDSN = dsn.FormatDSN()
	return nil
}

// checkERPURL accepts an absolute http or https URL with a host.
func checkERPURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return fmt.Errorf("ERP_URL=%q is not an http(s) URL with a host, like https://erp.example.com/api", redactURL(raw))
	}
	return nil
}

// redactURL hides a password written into a URL's user information.
func redactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	if at := strings.LastIndex(raw, "@"); at >= 0 {
		return "***" + raw[at:]
	}
	return raw
}

// Needs says what a command uses, so Require checks only that.
type Needs struct {
	// Store: the command opens the database.
	Store bool
	// ERP: the command sends records to the ERP.
	ERP bool
}

// Require refuses, at start-up, settings a command must not run with: in
// the production profile no database chosen (an empty MYSQL_DSN would give
// every process its own SQLite file) and an ERP_URL that is the simulator
// (the erpsim host) or this machine.
func (c Config) Require(n Needs) error {
	var errs []string
	if n.Store && c.Store == "" {
		errs = append(errs, "MYSQL_DSN is not set: set it (or MYSQL_DSN_FILE), or set STORE=sqlite to use the embedded file "+c.SQLitePath+" on purpose (one file per process: never for replicas)")
	}
	if n.ERP && c.Profile != ProfileDev {
		if u, err := url.Parse(c.ERPURL); err == nil && isSimulatorHost(u.Hostname()) {
			errs = append(errs, fmt.Sprintf("ERP_URL=%s is the ERP simulator or this machine, refused in the production profile: set your ERP's URL, or ERPBRIDGE_PROFILE=dev to use the simulator", u.Redacted()))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	return nil
}

// isSimulatorHost reports the compose stack's simulator and loopback hosts.
func isSimulatorHost(host string) bool {
	host = strings.ToLower(host)
	if host == "erpsim" || host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ShutdownBudget is the longest a graceful shutdown of the API and/or the
// worker takes: the drain window (the API's readiness already failing), then
// in-flight HTTP requests (the API's, or a worker-only process's /metrics),
// then the worker's stop bound. A supervisor's kill timeout (Compose
// stop_grace_period) must be longer.
func (c Config) ShutdownBudget(api, worker bool) time.Duration {
	d := c.ShutdownTimeout
	if api {
		d += c.DrainWindow
	}
	if worker {
		d += c.WorkerStopTimeout
	}
	return d
}

// StoreName names the configured database for logs, without credentials.
func (c Config) StoreName() string {
	if c.MySQLDSN != "" {
		return "mysql"
	}
	return "sqlite:" + c.SQLitePath
}

// loopback turns a listen address like ":8090" into one this machine can dial.
func loopback(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// parsePrefix reads a CIDR or a single address. IPv4-mapped IPv6 forms are
// turned into IPv4, as client addresses are before they are compared.
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil || !p.Addr().Is4In6() {
			return p, err
		}
		if p.Bits() < 96 {
			return netip.Prefix{}, fmt.Errorf("IPv4-mapped prefix must be /96 or longer")
		}
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}
