package config

import (
	"fmt"
	"net/netip"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// secretVars may each be given as a file instead, NAME_FILE, the way Docker
// and Compose secrets are mounted.
var secretVars = []string{
	"MYSQL_DSN", "MYSQL_PASSWORD", "ERP_TOKEN", "AUTOX3_APP_SECRET", "FENBEITONG_TOKEN",
	"PAYLOAD_KEY", "PAYLOAD_OLD_KEYS", "CODEC_SERVER_TOKEN",
	"KINGDEE_APP_SECRET", "KINGDEE_PASSWORD", "TRYTON_PASSWORD",
	"FENBEITONG_APP_KEY", "FENBEITONG_SIGN_KEY",
}

// FromEnv lays the environment, read through getenv (os.Getenv in main),
// over Default(), then validates the result. A variable that is unset or
// only white space keeps the default. Every problem is reported in one
// error, each naming its variable and never a secret's value.
func FromEnv(getenv func(string) string) (Config, error) {
	return fromEnv(Default(), getenv)
}

// DevFromEnv is FromEnv over DevDefault(), for `erpbridge dev`.
func DevFromEnv(getenv func(string) string) (Config, error) {
	return fromEnv(DevDefault(), getenv)
}

// Variables lists every environment variable FromEnv reads, the _FILE forms
// of the secrets included, sorted: what docs/configuration.md documents, and
// what a test clears to run a command on nothing but what it sets.
func Variables() []string {
	read := map[string]bool{}
	_, _ = FromEnv(func(k string) string { read[k] = true; return "" })
	names := make([]string, 0, len(read))
	for k := range read {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// fromEnv lays the environment over base, recomputes the derived defaults
// whose variables were not given, and validates.
func fromEnv(base Config, getenv func(string) string) (Config, error) {
	getenv, errs := withSecretFiles(getenv)
	r := &envReader{getenv: getenv, given: map[string]bool{}, errs: errs}
	c := base

	r.lower("ERPBRIDGE_PROFILE", &c.Profile)
	r.str("HTTP_ADDR", &c.HTTP.Addr)
	r.str("MYSQL_DSN", &c.Store.MySQLDSN)
	r.str("SQLITE_PATH", &c.Store.SQLitePath)
	r.str("TEMPORAL_ADDRESS", &c.Temporal.Address)
	r.str("TEMPORAL_NAMESPACE", &c.Temporal.Namespace)
	r.str("TEMPORAL_TASK_QUEUE", &c.Temporal.TaskQueue)
	r.str("TEMPORAL_TLS_CERT", &c.Temporal.TLSCert)
	r.str("TEMPORAL_TLS_KEY", &c.Temporal.TLSKey)
	r.str("TEMPORAL_TLS_CA", &c.Temporal.TLSCA)
	r.str("TEMPORAL_TLS_SERVER_NAME", &c.Temporal.TLSServerName)
	r.str("TEMPORAL_API_KEY", &c.Temporal.APIKey)
	r.lower("ERP_KIND", &c.ERP.Kind)
	r.str("ERP_MAPPING", &c.ERP.Mapping)
	r.str("ERP_URL", &c.ERP.URL)
	r.str("ERP_TOKEN", &c.ERP.Token)
	r.str("KINGDEE_URL", &c.Kingdee.URL)
	r.str("KINGDEE_ACCT_ID", &c.Kingdee.AcctID)
	r.str("KINGDEE_USERNAME", &c.Kingdee.Username)
	r.str("KINGDEE_APP_ID", &c.Kingdee.AppID)
	r.str("KINGDEE_APP_SECRET", &c.Kingdee.AppSecret)
	r.str("KINGDEE_PASSWORD", &c.Kingdee.Password)
	r.int("KINGDEE_LCID", &c.Kingdee.LCID)
	r.int("KINGDEE_MAX_SESSIONS", &c.Kingdee.MaxSessions)
	r.duration("KINGDEE_TIMEOUT", &c.Kingdee.Timeout)
	r.str("TRYTON_URL", &c.Tryton.URL)
	r.str("TRYTON_DATABASE", &c.Tryton.Database)
	r.str("TRYTON_USER", &c.Tryton.User)
	r.str("TRYTON_PASSWORD", &c.Tryton.Password)
	r.duration("TRYTON_TIMEOUT", &c.Tryton.Timeout)
	r.int("TRYTON_MAX_CONCURRENT", &c.Tryton.MaxConcurrent)
	r.str("AUTOX3_APP_SECRET", &c.Vendors.AutoX3AppSecret)
	r.str("FENBEITONG_TOKEN", &c.Vendors.FenbeitongToken)
	r.str("PAYLOAD_KEY", &c.Codec.PayloadKey)
	r.str("PAYLOAD_OLD_KEYS", &c.Codec.PayloadOldKeys)
	r.str("CODEC_ADDR", &c.Codec.Addr)
	r.str("CODEC_SERVER_TOKEN", &c.Codec.ServerToken)
	r.str("ERPSIM_ADDR", &c.Dev.ERPSimAddr)
	r.str("ERPSIM_DATA", &c.Dev.ERPSimData)
	r.str("FENBEITONG_SIM_ADDR", &c.Dev.FenbeitongSimAddr)
	r.str("METRICS_ADDR", &c.HTTP.MetricsAddr)
	r.str("ADMIN_ADDR", &c.HTTP.AdminAddr)
	r.str("PPROF_ADDR", &c.HTTP.PprofAddr)
	r.str("DATA_DIR", &c.Dev.DataDir)
	r.lower("LOG_LEVEL", &c.Log.Level)
	r.lower("STORE", &c.Store.Kind)

	r.duration("ERP_TIMEOUT", &c.ERP.Timeout)
	r.duration("ERP_RETRY_BUDGET", &c.ERP.RetryBudget)
	r.duration("ERP_RETRY_INITIAL", &c.ERP.RetryInitial)
	r.duration("ERP_RETRY_MAX_INTERVAL", &c.ERP.RetryMaxInterval)
	r.duration("TEMPORAL_NAMESPACE_RETENTION", &c.Temporal.NamespaceRetention)
	r.duration("SHUTDOWN_TIMEOUT", &c.HTTP.ShutdownTimeout)
	r.duration("WORKER_STOP_TIMEOUT", &c.Temporal.WorkerStopTimeout)
	r.window("DRAIN_WINDOW", &c.HTTP.DrainWindow)
	r.duration("EDGE_STORE_TIMEOUT", &c.HTTP.StoreTimeout)
	r.duration("EDGE_TEMPORAL_TIMEOUT", &c.HTTP.TemporalTimeout)
	r.int64("TEMPORAL_MAX_PAYLOAD_BYTES", &c.Temporal.MaxPayloadBytes)
	r.int64("MAX_BODY_BYTES", &c.HTTP.MaxBodyBytes)
	r.duration("HTTP_READ_TIMEOUT", &c.HTTP.ReadTimeout)
	r.int("WEBHOOK_MAX_CONCURRENT", &c.HTTP.WebhookConcurrency)
	r.duration("CODEC_READ_TIMEOUT", &c.Codec.ReadTimeout)
	r.duration("CODEC_WRITE_TIMEOUT", &c.Codec.WriteTimeout)
	r.int64("CODEC_MAX_BODY_BYTES", &c.Codec.MaxBodyBytes)
	r.int("WORKFLOW_CACHE_SIZE", &c.Temporal.WorkflowCacheSize)
	r.compression("TEMPORAL_GRPC_COMPRESSION", &c.Temporal.Gzip)
	r.int("DB_MAX_OPEN_CONNS", &c.Store.MaxOpenConns)
	r.int("DB_MAX_IDLE_CONNS", &c.Store.MaxIdleConns)
	r.int("DB_EDGE_CONNS", &c.Store.EdgeConns)
	r.port("TEMPORAL_UI_PORT", &c.Dev.TemporalUIPort)
	r.boolean("ALLOW_UNENCRYPTED_PAYLOADS", &c.Codec.AllowUnencrypted)
	r.boolean("AUTO_MIGRATE", &c.Store.AutoMigrate)
	r.str("FENBEITONG_API_URL", &c.Reconcile.URL)
	r.str("FENBEITONG_APP_ID", &c.Reconcile.AppID)
	r.str("FENBEITONG_APP_KEY", &c.Reconcile.AppKey)
	r.str("FENBEITONG_SIGN_KEY", &c.Reconcile.SignKey)
	r.str("FENBEITONG_EMPLOYEE_ID", &c.Reconcile.EmployeeID)
	r.str("FENBEITONG_EMPLOYEE_TYPE", &c.Reconcile.EmployeeType)
	r.str("FENBEITONG_API_TOKEN_PATH", &c.Reconcile.TokenPath)
	r.int("FENBEITONG_API_RPS", &c.Reconcile.RPS)
	r.int("FENBEITONG_API_PAGE_SIZE", &c.Reconcile.PageSize)
	r.duration("FENBEITONG_RECONCILE_EVERY", &c.Reconcile.Every)
	r.duration("FENBEITONG_RECONCILE_LOOKBACK", &c.Reconcile.Lookback)
	r.int("SPLIT_BATCH_SIZE", &c.Split.BatchSize)
	r.int("SPLIT_NOTIFY_CONCURRENCY", &c.Split.NotifyConcurrency)
	r.int("BULK_WORKFLOW_TASKS", &c.Split.BulkWorkflowTasks)
	r.int("BULK_ACTIVITIES", &c.Split.BulkActivities)
	r.duration("SPLIT_RECORD_IDLE", &c.Split.RecordIdleTimeout)
	r.boolean("SCHEDULES", &c.Schedules.Enabled)
	r.duration("SWEEP_EVERY", &c.Schedules.SweepEvery)
	r.duration("SWEEP_STALE_AFTER", &c.Schedules.StaleAfter)
	r.password("MYSQL_PASSWORD", &c.Store.MySQLDSN)
	r.prefixes("FENBEITONG_ALLOWED_IPS", &c.Vendors.FenbeitongAllowedIPs)
	r.list("TRUSTED_PROXIES", &c.HTTP.TrustedProxies)
	r.list("CODEC_CORS_ORIGINS", &c.Codec.CORSOrigins)

	r.str("OTEL_EXPORTER_OTLP_ENDPOINT", &c.Tracing.Endpoint)
	r.str("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", &c.Tracing.Endpoint)
	r.lower("OTEL_EXPORTER_OTLP_PROTOCOL", &c.Tracing.Protocol)
	r.lower("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", &c.Tracing.Protocol)
	r.lower("OTEL_TRACES_EXPORTER", &c.Tracing.Exporter)
	r.str("OTEL_SERVICE_NAME", &c.Tracing.ServiceName)
	var sdkDisabled bool
	r.boolean("OTEL_SDK_DISABLED", &sdkDisabled)

	c.derive(func(name string) bool { return r.given[name] })
	if sdkDisabled { // OpenTelemetry's switch turns every exporter off
		c.Tracing.Exporter = TracesNone
	}
	errs = append(r.errs, c.problems()...)
	if len(errs) > 0 {
		return c, fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	return c, nil
}

// envReader lays variables over a Config's fields. A variable that is unset
// or white space leaves its field alone; one that does not parse leaves it
// too, and adds a problem that quotes it as written.
type envReader struct {
	getenv func(string) string
	given  map[string]bool // the variables that were set
	errs   []string
}

// value is the variable's trimmed value, recorded as given when not empty.
func (r *envReader) value(key string) string {
	v := strings.TrimSpace(r.getenv(key))
	if v != "" {
		r.given[key] = true
	}
	return v
}

func (r *envReader) str(key string, dst *string) {
	if v := r.value(key); v != "" {
		*dst = v
	}
}

// lower reads a keyword, which is case-insensitive.
func (r *envReader) lower(key string, dst *string) {
	if v := r.value(key); v != "" {
		*dst = strings.ToLower(v)
	}
}

// duration reads a positive duration.
func (r *envReader) duration(key string, dst *time.Duration) {
	parseInto(r, key, dst, "a positive duration like 30s or 72h", func(v string) (time.Duration, bool) {
		d, err := time.ParseDuration(v)
		return d, err == nil && d > 0
	})
}

// window reads a duration that may be 0.
func (r *envReader) window(key string, dst *time.Duration) {
	parseInto(r, key, dst, "a duration like 5s (0 for none)", func(v string) (time.Duration, bool) {
		d, err := time.ParseDuration(v)
		return d, err == nil && d >= 0
	})
}

// int64 reads a positive integer.
func (r *envReader) int64(key string, dst *int64) {
	parseInto(r, key, dst, "a positive integer", func(v string) (int64, bool) {
		n, err := strconv.ParseInt(v, 10, 64)
		return n, err == nil && n > 0
	})
}

// int reads a positive integer that fits an int.
func (r *envReader) int(key string, dst *int) {
	parseInto(r, key, dst, "a positive integer", func(v string) (int, bool) {
		n, err := strconv.ParseInt(v, 10, strconv.IntSize)
		return int(n), err == nil && n > 0
	})
}

// port reads a TCP port number.
func (r *envReader) port(key string, dst *int) {
	parseInto(r, key, dst, "a port number", func(v string) (int, bool) {
		p, err := strconv.ParseUint(v, 10, 16)
		return int(p), err == nil && p > 0
	})
}

func (r *envReader) boolean(key string, dst *bool) {
	parseInto(r, key, dst, "true or false", func(v string) (bool, bool) {
		b, err := strconv.ParseBool(v)
		return b, err == nil
	})
}

// parseInto lays the variable key over dst through parse, which reports
// false for a value it refuses: dst is then left alone and the problem says
// the value is not want.
func parseInto[T any](r *envReader, key string, dst *T, want string, parse func(v string) (T, bool)) {
	v := r.value(key)
	if v == "" {
		return
	}
	x, ok := parse(v)
	if !ok {
		r.errs = append(r.errs, fmt.Sprintf("%s=%q is not %s", key, v, want))
		return
	}
	*dst = x
}

// compression reads none or gzip.
func (r *envReader) compression(key string, gzip *bool) {
	switch v := r.value(key); v {
	case "":
	case "none":
		*gzip = false
	case "gzip":
		*gzip = true
	default:
		r.errs = append(r.errs, fmt.Sprintf("%s=%q must be none or gzip", key, v))
	}
}

// password puts MYSQL_PASSWORD into the DSN, which must then hold none.
func (r *envReader) password(key string, dsn *string) {
	password := r.value(key)
	if password == "" {
		return
	}
	if *dsn == "" {
		r.errs = append(r.errs, "MYSQL_PASSWORD is set but MYSQL_DSN is not")
		return
	}
	parsed, err := mysql.ParseDSN(*dsn)
	if err != nil {
		r.errs = append(r.errs, "MYSQL_DSN is not a go-sql-driver DSN (user@tcp(host:3306)/db): "+err.Error())
		return
	}
	if parsed.Passwd != "" {
		r.errs = append(r.errs, "MYSQL_DSN holds a password and MYSQL_PASSWORD is set: keep one")
		return
	}
	parsed.Passwd = password
	*dsn = parsed.FormatDSN()
}

// prefixes reads a list of CIDRs or addresses.
func (r *envReader) prefixes(key string, dst *[]netip.Prefix) {
	items := SplitList(r.value(key))
	if len(items) == 0 {
		return
	}
	var out []netip.Prefix
	for _, item := range items {
		p, err := parsePrefix(item)
		if err != nil {
			r.errs = append(r.errs, fmt.Sprintf("%s entry %q: %v", key, item, err))
			continue
		}
		out = append(out, p)
	}
	*dst = out
}

// list reads a comma-separated list.
func (r *envReader) list(key string, dst *[]string) {
	if items := SplitList(r.value(key)); len(items) > 0 {
		*dst = items
	}
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
