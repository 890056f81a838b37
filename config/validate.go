package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/internal/reason"
	"github.com/erpbridge/erpbridge/vendors/fenbeitong/openapi"
)

// Validate reports every setting that would misbehave, each named by its
// variable, in one error: the pass FromEnv ends with, for a Config built
// from Default() by hand too. A zero Config is never valid. What only some
// commands refuse (no database chosen, the simulator as the ERP in
// production) is Require's.
func (c Config) Validate() error {
	if errs := c.problems(); len(errs) > 0 {
		return fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	return nil
}

// problems lists what Validate reports.
func (c Config) problems() []string {
	var errs []string
	add := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	positive := func(key string, d time.Duration) {
		if d <= 0 {
			add("%s=%q is not a positive duration like 30s or 72h", key, d.String())
		}
	}
	count := func(key string, n int64) {
		if n <= 0 {
			add("%s=%q is not a positive integer", key, strconv.FormatInt(n, 10))
		}
	}
	set := func(key, v, example string) {
		if v == "" {
			add("%s is empty: it needs a value like %s", key, example)
		}
	}

	if c.Profile != ProfileProduction && c.Profile != ProfileDev {
		add("ERPBRIDGE_PROFILE=%q must be %s or %s", c.Profile, ProfileProduction, ProfileDev)
	}

	positive("ERP_TIMEOUT", c.ERP.Timeout)
	positive("ERP_RETRY_BUDGET", c.ERP.RetryBudget)
	positive("ERP_RETRY_INITIAL", c.ERP.RetryInitial)
	positive("ERP_RETRY_MAX_INTERVAL", c.ERP.RetryMaxInterval)
	positive("EDGE_STORE_TIMEOUT", c.HTTP.StoreTimeout)
	positive("EDGE_TEMPORAL_TIMEOUT", c.HTTP.TemporalTimeout)
	if c.Temporal.MaxPayloadBytes < 64<<10 {
		add("TEMPORAL_MAX_PAYLOAD_BYTES=%d is below 64 KiB: no callback could be carried to Temporal", c.Temporal.MaxPayloadBytes)
	}
	count("FENBEITONG_API_RPS", int64(c.Reconcile.RPS))
	count("FENBEITONG_API_PAGE_SIZE", int64(c.Reconcile.PageSize))
	positive("FENBEITONG_RECONCILE_EVERY", c.Reconcile.Every)
	positive("FENBEITONG_RECONCILE_LOOKBACK", c.Reconcile.Lookback)
	if c.Reconcile.PageSize > openapi.MaxPageSize {
		add("FENBEITONG_API_PAGE_SIZE=%d is over %d, the most the open API gives", c.Reconcile.PageSize, openapi.MaxPageSize)
	}
	if c.Reconcile.URL != "" { // the client's own checks, each naming its variable
		if err := c.Reconcile.API().Validate(); err != nil {
			errs = append(errs, strings.Split(err.Error(), "\n")...)
		}
	}
	count("SPLIT_BATCH_SIZE", int64(c.Split.BatchSize))
	count("SPLIT_NOTIFY_CONCURRENCY", int64(c.Split.NotifyConcurrency))
	count("BULK_WORKFLOW_TASKS", int64(c.Split.BulkWorkflowTasks))
	count("BULK_ACTIVITIES", int64(c.Split.BulkActivities))
	positive("SPLIT_RECORD_IDLE", c.Split.RecordIdleTimeout)
	if c.Split.BatchSize > 1000 {
		add("SPLIT_BATCH_SIZE=%d is over 1000: one transaction would hold too many records' locks for too long", c.Split.BatchSize)
	}
	positive("SWEEP_EVERY", c.Schedules.SweepEvery)
	positive("SWEEP_STALE_AFTER", c.Schedules.StaleAfter)
	if c.Schedules.StaleAfter <= c.ERP.RetryMaxInterval {
		add("SWEEP_STALE_AFTER (%s) must be longer than ERP_RETRY_MAX_INTERVAL (%s): a record workflow at work writes its record at least that often", c.Schedules.StaleAfter, c.ERP.RetryMaxInterval)
	}
	if c.ERP.RetryMaxInterval < c.ERP.RetryInitial {
		add("ERP_RETRY_MAX_INTERVAL (%s) is shorter than ERP_RETRY_INITIAL (%s)", c.ERP.RetryMaxInterval, c.ERP.RetryInitial)
	}
	if c.ERP.AttemptTimeout <= c.ERP.Timeout {
		add("the ERP sync's attempt timeout (ERP.AttemptTimeout, %s) must be longer than ERP_TIMEOUT (%s), which it includes", c.ERP.AttemptTimeout, c.ERP.Timeout)
	}
	errs = append(errs, c.erpKindProblems()...)
	positive("KINGDEE_TIMEOUT", c.Kingdee.Timeout)
	count("KINGDEE_LCID", int64(c.Kingdee.LCID))
	count("KINGDEE_MAX_SESSIONS", int64(c.Kingdee.MaxSessions))
	positive("TRYTON_TIMEOUT", c.Tryton.Timeout)
	count("TRYTON_MAX_CONCURRENT", int64(c.Tryton.MaxConcurrent))
	positive("TEMPORAL_NAMESPACE_RETENTION", c.Temporal.NamespaceRetention)
	positive("SHUTDOWN_TIMEOUT", c.HTTP.ShutdownTimeout)
	positive("WORKER_STOP_TIMEOUT", c.Temporal.WorkerStopTimeout)
	if c.HTTP.DrainWindow < 0 {
		add("DRAIN_WINDOW=%q is not a duration like 5s (0 for none)", c.HTTP.DrainWindow.String())
	}
	if c.HTTP.PprofAddr != "" {
		if _, port, err := net.SplitHostPort(c.HTTP.PprofAddr); err != nil || port == "" {
			add("PPROF_ADDR=%q is not a host:port like 127.0.0.1:6060", c.HTTP.PprofAddr)
		}
	}
	if (c.Temporal.TLSCert == "") != (c.Temporal.TLSKey == "") {
		add("TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together: set both for mTLS, or neither")
	}

	count("MAX_BODY_BYTES", c.HTTP.MaxBodyBytes)
	positive("HTTP_READ_TIMEOUT", c.HTTP.ReadTimeout)
	count("WEBHOOK_MAX_CONCURRENT", int64(c.HTTP.WebhookConcurrency))
	positive("CODEC_READ_TIMEOUT", c.Codec.ReadTimeout)
	positive("CODEC_WRITE_TIMEOUT", c.Codec.WriteTimeout)
	if c.Codec.WriteTimeout <= c.Codec.ReadTimeout {
		add("CODEC_WRITE_TIMEOUT (%s) must be longer than CODEC_READ_TIMEOUT (%s): the write timeout counts from the end of the headers, so it includes reading the body", c.Codec.WriteTimeout, c.Codec.ReadTimeout)
	}
	count("CODEC_MAX_BODY_BYTES", c.Codec.MaxBodyBytes)
	count("WORKFLOW_CACHE_SIZE", int64(c.Temporal.WorkflowCacheSize))
	count("DB_MAX_OPEN_CONNS", int64(c.Store.MaxOpenConns))
	count("DB_MAX_IDLE_CONNS", int64(c.Store.MaxIdleConns))
	count("DB_EDGE_CONNS", int64(c.Store.EdgeConns))
	if c.Dev.TemporalUIPort <= 0 || c.Dev.TemporalUIPort > 65535 {
		add("TEMPORAL_UI_PORT=%q is not a port number", strconv.Itoa(c.Dev.TemporalUIPort))
	}

	if c.Store.AutoMigrate && c.Profile != ProfileDev {
		add("AUTO_MIGRATE=true is refused in the production profile: run `erpbridge migrate` before api and worker")
	}
	errs = append(errs, c.Store.problems()...)
	for _, item := range c.HTTP.TrustedProxies {
		if _, err := parsePrefix(item); err != nil {
			add("TRUSTED_PROXIES entry %q: %v", item, err)
		}
	}
	errs = append(errs, checkSecretList("AUTOX3_APP_SECRET", c.Vendors.AutoX3AppSecret)...)
	errs = append(errs, checkSecretList("FENBEITONG_TOKEN", c.Vendors.FenbeitongToken)...)
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		add("LOG_LEVEL=%q must be debug, info, warn or error", c.Log.Level)
	}

	switch c.Tracing.Exporter {
	case TracesNone, TracesConsole:
	case TracesOTLP:
		if c.Tracing.Endpoint != "" {
			if u, err := url.Parse(c.Tracing.Endpoint); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
				add("the OTLP endpoint %q (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is not a URL like http://collector:4318", c.Tracing.Endpoint)
			}
		}
	default:
		add("OTEL_TRACES_EXPORTER=%q must be otlp, console or none", c.Tracing.Exporter)
	}
	if c.Tracing.Protocol != OTLPGRPC && c.Tracing.Protocol != OTLPHTTPProtobuf {
		add("the OTLP protocol %q (OTEL_EXPORTER_OTLP_PROTOCOL or OTEL_EXPORTER_OTLP_TRACES_PROTOCOL) must be grpc or http/protobuf", c.Tracing.Protocol)
	}
	set("OTEL_SERVICE_NAME", c.Tracing.ServiceName, "erpbridge")

	set("HTTP_ADDR", c.HTTP.Addr, ":8080")
	set("METRICS_ADDR", c.HTTP.MetricsAddr, ":9091")
	set("TEMPORAL_ADDRESS", c.Temporal.Address, "127.0.0.1:7233")
	set("TEMPORAL_NAMESPACE", c.Temporal.Namespace, "default")
	set("TEMPORAL_TASK_QUEUE", c.Temporal.TaskQueue, "erpbridge")
	set("CODEC_ADDR", c.Codec.Addr, ":8234")
	set("DATA_DIR", c.Dev.DataDir, ".data")
	set("ERPSIM_ADDR", c.Dev.ERPSimAddr, ":8090")
	set("ERPSIM_DATA", c.Dev.ERPSimData, ".data/erpsim.jsonl")
	set("FENBEITONG_SIM_ADDR", c.Dev.FenbeitongSimAddr, "127.0.0.1:8092")
	return errs
}

// erpKindProblems reports an ERP_KIND that is not a sink, and the settings
// that do not fit the sink chosen: the http sink's URL and the absence of
// a mapping, a connector's send bound against its call bound. A
// connector's own settings (URL, login) are Require's: only the commands
// that send to the ERP need them.
func (c Config) erpKindProblems() []string {
	switch c.ERP.Kind {
	case erp.KindHTTP:
		var errs []string
		if err := checkERPURL(c.ERP.URL); err != nil {
			errs = append(errs, err.Error())
		}
		if c.ERP.Mapping != "" {
			errs = append(errs, fmt.Sprintf("ERP_MAPPING=%q is set but ERP_KIND=http posts the normalised record to the HTTP contract, with no mapping: set ERP_KIND=kingdee or tryton, or unset ERP_MAPPING", c.ERP.Mapping))
		}
		return errs
	case erp.KindKingdee, erp.KindTryton:
		call := c.callTimeout()
		if call > 0 && c.ERP.Timeout < connectorMinCalls*call {
			return []string{fmt.Sprintf("ERP_TIMEOUT (%s) bounds a whole send to %s and must leave room for at least %d calls of %s (%s each): the look-up of the record's document and its create or update; raise ERP_TIMEOUT or lower %[4]s",
				c.ERP.Timeout, c.ERP.Kind, connectorMinCalls, c.callTimeoutVariable(), call)}
		}
		return nil
	}
	return []string{fmt.Sprintf("ERP_KIND=%q must be %s, %s or %s", c.ERP.Kind, erp.KindHTTP, erp.KindKingdee, erp.KindTryton)}
}

// problems reports a store kind that does not fit the DSN.
func (s Store) problems() []string {
	switch {
	case s.Kind != "" && s.Kind != StoreMySQL && s.Kind != StoreSQLite:
		return []string{fmt.Sprintf("STORE=%q must be %s or %s", s.Kind, StoreMySQL, StoreSQLite)}
	case s.Kind == StoreMySQL && s.MySQLDSN == "":
		return []string{"STORE=mysql but MYSQL_DSN is not set"}
	case s.Kind == StoreSQLite && s.MySQLDSN != "":
		return []string{"STORE=sqlite but MYSQL_DSN is set: keep one"}
	case s.Kind == "" && s.MySQLDSN != "":
		return []string{"MYSQL_DSN is set but the store is not chosen (Store.Kind is empty): set STORE=mysql"}
	case s.MySQLDSN == "" && s.SQLitePath == "":
		return []string{"SQLITE_PATH is empty: it needs a file like .data/erpbridge.db when MYSQL_DSN is not set"}
	}
	return nil
}

// checkSecretList refuses a secret list that is set but names no secret, or
// holds a control character (a secrets file with one secret per line, say,
// instead of commas). Entries are named by position, never by value.
func checkSecretList(name, value string) []string {
	if value == "" {
		return nil
	}
	list := SplitList(value)
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

// checkERPURL accepts an absolute http or https URL with a host.
func checkERPURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return fmt.Errorf("ERP_URL=%q is not an http(s) URL with a host, like https://erp.example.com/api", reason.RedactURL(raw))
	}
	return nil
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
// every process its own SQLite file); for a command that sends to the ERP,
// the settings of the connector ERP_KIND names (each problem naming its
// variable), and, for the http sink in the production profile, an ERP_URL
// that is the simulator (the erpsim host) or this machine.
func (c Config) Require(n Needs) error {
	var errs []string
	if n.Store && c.Store.Kind == "" {
		errs = append(errs, "MYSQL_DSN is not set: set it (or MYSQL_DSN_FILE), or set STORE=sqlite to use the embedded file "+c.Store.SQLitePath+" on purpose (one file per process: never for replicas)")
	}
	if n.ERP {
		errs = append(errs, c.ConnectorProblems()...)
	}
	if n.ERP && c.ERP.Kind == erp.KindHTTP && c.Profile != ProfileDev {
		if u, err := url.Parse(c.ERP.URL); err == nil && isSimulatorHost(u.Hostname()) {
			errs = append(errs, fmt.Sprintf("ERP_URL=%s is the ERP simulator or this machine, refused in the production profile: set your ERP's URL, or ERPBRIDGE_PROFILE=dev to use the simulator", u.Redacted()))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	return nil
}

// ConnectorProblems lists what the connector ERP_KIND names finds wrong
// with its settings (its Validate, one problem a line, each naming its
// variable and never a secret's value); nothing for the http sink.
func (c Config) ConnectorProblems() []string {
	var err error
	switch c.ERP.Kind {
	case erp.KindKingdee:
		err = c.Kingdee.Validate()
	case erp.KindTryton:
		err = c.Tryton.Validate()
	}
	if err == nil {
		return nil
	}
	return strings.Split(err.Error(), "\n")
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

// parsePrefix reads a CIDR or a single address. IPv4-mapped IPv6 forms are
// turned into IPv4, as client addresses are before they are compared.
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil || !p.Addr().Is4In6() {
			return p, err
		}
		if p.Bits() < 96 {
			return netip.Prefix{}, errors.New("IPv4-mapped prefix must be /96 or longer")
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
