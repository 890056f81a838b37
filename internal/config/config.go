// Package config reads the service's configuration from the environment, once,
// with documented defaults. Nothing else in the service reads the environment.
package config

import (
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is the whole configuration of every erpbridge command.
type Config struct {
	// HTTPAddr is where the API listens (HTTP_ADDR, default ":8080").
	HTTPAddr string
	// MySQLDSN selects MySQL (MYSQL_DSN, go-sql-driver format); empty means SQLite.
	MySQLDSN string
	// SQLitePath is the embedded database file used without MySQL (SQLITE_PATH, default DATA_DIR/erpbridge.db).
	SQLitePath string

	// TemporalAddress is the frontend host:port (TEMPORAL_ADDRESS, default "127.0.0.1:7233").
	TemporalAddress string
	// TemporalNamespace (TEMPORAL_NAMESPACE, default "default").
	TemporalNamespace string
	// TaskQueue (TEMPORAL_TASK_QUEUE, default "erpbridge").
	TaskQueue string

	// ERPURL is the ERP's base URL (ERP_URL, default the ERP simulator at
	// ERPSIM_ADDR on this machine, "http://127.0.0.1:8090").
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

	// AutoX3AppSecret signs AutoX3 callbacks (AUTOX3_APP_SECRET); empty refuses every callback.
	AutoX3AppSecret string
	// FenbeitongToken must be the token query parameter of pushes (FENBEITONG_TOKEN); empty refuses every push.
	FenbeitongToken string
	// FenbeitongAllowedIPs limits push sources (FENBEITONG_ALLOWED_IPS, comma-separated CIDRs or addresses).
	FenbeitongAllowedIPs []netip.Prefix
	// TrustedProxies lists proxies whose X-Forwarded-For is believed (TRUSTED_PROXIES, CIDRs); empty trusts none.
	TrustedProxies []string

	// MaxBodyBytes is the callback body limit (MAX_BODY_BYTES, default 1 MiB).
	MaxBodyBytes int64

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
	// ShutdownTimeout bounds graceful shutdown (SHUTDOWN_TIMEOUT, default 25s).
	ShutdownTimeout time.Duration
	// AdminAddr, when set, serves /readyz and /metrics on their own address
	// instead of the webhook port (ADMIN_ADDR, e.g. "127.0.0.1:9090").
	AdminAddr string
	// DrainWindow is how long, after SIGTERM, the webhooks keep answering 503
	// (so vendors redeliver) while readiness fails, before the listener
	// closes (DRAIN_WINDOW, default 5s; 0 closes at once).
	DrainWindow time.Duration
}

// FromEnv reads the configuration through getenv (os.Getenv in main).
func FromEnv(getenv func(string) string) (Config, error) {
	get := func(key, def string) string {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			return v
		}
		return def
	}
	dataDir := get("DATA_DIR", ".data")
	simAddr := get("ERPSIM_ADDR", ":8090")
	c := Config{
		HTTPAddr:          get("HTTP_ADDR", ":8080"),
		MySQLDSN:          get("MYSQL_DSN", ""),
		SQLitePath:        get("SQLITE_PATH", filepath.Join(dataDir, "erpbridge.db")),
		TemporalAddress:   get("TEMPORAL_ADDRESS", "127.0.0.1:7233"),
		TemporalNamespace: get("TEMPORAL_NAMESPACE", "default"),
		TaskQueue:         get("TEMPORAL_TASK_QUEUE", "erpbridge"),
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
		DataDir:           dataDir,
		LogLevel:          strings.ToLower(get("LOG_LEVEL", "info")),
	}
	var errs []string
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
	c.ERPTimeout = dur("ERP_TIMEOUT", 30*time.Second)
	c.ERPRetryBudget = dur("ERP_RETRY_BUDGET", 7*24*time.Hour)
	c.ERPRetryInitial = dur("ERP_RETRY_INITIAL", time.Second)
	c.ERPRetryMaxInterval = dur("ERP_RETRY_MAX_INTERVAL", 10*time.Minute)
	if c.ERPRetryMaxInterval < c.ERPRetryInitial {
		errs = append(errs, fmt.Sprintf("ERP_RETRY_MAX_INTERVAL (%s) is shorter than ERP_RETRY_INITIAL (%s)", c.ERPRetryMaxInterval, c.ERPRetryInitial))
	}
	c.ShutdownTimeout = dur("SHUTDOWN_TIMEOUT", 25*time.Second)
	c.DrainWindow = 5 * time.Second
	if v := get("DRAIN_WINDOW", ""); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			errs = append(errs, fmt.Sprintf("DRAIN_WINDOW=%q is not a duration like 5s (0 for none)", v))
		} else {
			c.DrainWindow = d
		}
	}

	c.MaxBodyBytes = 1 << 20
	if v := get("MAX_BODY_BYTES", ""); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			errs = append(errs, fmt.Sprintf("MAX_BODY_BYTES=%q is not a positive integer", v))
		} else {
			c.MaxBodyBytes = n
		}
	}
	c.TemporalUIPort = 8233
	if v := get("TEMPORAL_UI_PORT", ""); v != "" {
		if p, err := strconv.ParseUint(v, 10, 16); err != nil || p == 0 {
			errs = append(errs, fmt.Sprintf("TEMPORAL_UI_PORT=%q is not a port number", v))
		} else {
			c.TemporalUIPort = int(p)
		}
	}
	if v := get("ALLOW_UNENCRYPTED_PAYLOADS", "false"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Sprintf("ALLOW_UNENCRYPTED_PAYLOADS=%q is not true or false", v))
		}
		c.AllowUnencrypted = b
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
