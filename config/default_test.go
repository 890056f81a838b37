package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/config"
)

func TestDefaultIsValid(t *testing.T) {
	for name, c := range map[string]config.Config{"Default": config.Default(), "DevDefault": config.DevDefault()} {
		if err := c.Validate(); err != nil {
			t.Errorf("%s().Validate: %v", name, err)
		}
	}
}

// The dev command's defaults: the dev profile with what follows from it, the
// codec server on loopback and fewer logs, each unless told otherwise.
func TestDevDefaults(t *testing.T) {
	c, err := config.DevFromEnv(env(map[string]string{"DATA_DIR": "/tmp/dev-state"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Profile != config.ProfileDev || !c.Store.AutoMigrate || c.Store.Kind != config.StoreSQLite {
		t.Errorf("dev profile: profile %q, auto-migrate %v, store %q", c.Profile, c.Store.AutoMigrate, c.Store.Kind)
	}
	if c.Codec.Addr != "127.0.0.1:8234" || c.Log.Level != "warn" || c.Store.SQLitePath != "/tmp/dev-state/erpbridge.db" {
		t.Errorf("dev defaults: codec %q, log level %q, SQLite %q", c.Codec.Addr, c.Log.Level, c.Store.SQLitePath)
	}
	c, err = config.DevFromEnv(env(map[string]string{"CODEC_ADDR": ":9234", "LOG_LEVEL": "debug"}))
	if err != nil || c.Codec.Addr != ":9234" || c.Log.Level != "debug" {
		t.Errorf("explicit settings: codec %q, log level %q (%v)", c.Codec.Addr, c.Log.Level, err)
	}
	// The profile given wins, and what follows from it follows it.
	c, err = config.DevFromEnv(env(map[string]string{"ERPBRIDGE_PROFILE": "production"}))
	if err != nil || c.Profile != config.ProfileProduction || c.Store.AutoMigrate || c.Store.Kind != "" {
		t.Errorf("production for the dev command: profile %q, auto-migrate %v, store %q (%v)", c.Profile, c.Store.AutoMigrate, c.Store.Kind, err)
	}
	// The other commands' defaults are not the dev command's.
	if c, err := config.FromEnv(env(nil)); err != nil || c.Codec.Addr != ":8234" || c.Log.Level != "info" {
		t.Errorf("FromEnv: codec %q, log level %q (%v)", c.Codec.Addr, c.Log.Level, err)
	}
}

// A derived default follows the setting it derives from; a setting given wins.
func TestDerivedDefaults(t *testing.T) {
	tests := []struct {
		name  string
		vars  map[string]string
		check func(config.Config) bool
	}{
		{"attempt and stop follow ERP_TIMEOUT", map[string]string{"ERP_TIMEOUT": "20s"}, func(c config.Config) bool {
			return c.ERP.AttemptTimeout == 35*time.Second && c.Temporal.WorkerStopTimeout == 25*time.Second
		}},
		{"WORKER_STOP_TIMEOUT given wins", map[string]string{"ERP_TIMEOUT": "20s", "WORKER_STOP_TIMEOUT": "3s"}, func(c config.Config) bool {
			return c.ERP.AttemptTimeout == 35*time.Second && c.Temporal.WorkerStopTimeout == 3*time.Second
		}},
		{"SQLITE_PATH given wins over DATA_DIR", map[string]string{"DATA_DIR": "/srv", "SQLITE_PATH": "/db/x.db"}, func(c config.Config) bool {
			return c.Store.SQLitePath == "/db/x.db" && c.Dev.ERPSimData == "/srv/erpsim.jsonl"
		}},
		{"ERP_URL given wins over ERPSIM_ADDR", map[string]string{"ERPSIM_ADDR": ":9999", "ERP_URL": "https://erp.example.com"}, func(c config.Config) bool {
			return c.ERP.URL == "https://erp.example.com"
		}},
		{"dev profile migrates and takes SQLite", map[string]string{"ERPBRIDGE_PROFILE": "dev"}, func(c config.Config) bool {
			return c.Store.AutoMigrate && c.Store.Kind == config.StoreSQLite
		}},
		{"tracing off without an exporter or an endpoint", nil, func(c config.Config) bool {
			return c.Tracing.Exporter == config.TracesNone
		}},
		{"an OTLP endpoint turns tracing on", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, func(c config.Config) bool {
			return c.Tracing.Exporter == config.TracesOTLP && c.Tracing.Protocol == config.OTLPHTTPProtobuf
		}},
		{"the traces endpoint and protocol win over the general ones", map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://b:4317",
			"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc"}, func(c config.Config) bool {
			return c.Tracing.Endpoint == "http://b:4317" && c.Tracing.Protocol == config.OTLPGRPC
		}},
		{"OTEL_TRACES_EXPORTER given wins over the endpoint", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_TRACES_EXPORTER": "none"}, func(c config.Config) bool {
			return c.Tracing.Exporter == config.TracesNone
		}},
		{"console needs no endpoint", map[string]string{"OTEL_TRACES_EXPORTER": "console"}, func(c config.Config) bool {
			return c.Tracing.Exporter == config.TracesConsole
		}},
		{"OTEL_SDK_DISABLED turns tracing off", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}, func(c config.Config) bool {
			return c.Tracing.Exporter == config.TracesNone
		}},
		{"OTEL_SDK_DISABLED=false changes nothing", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_SDK_DISABLED": "false"}, func(c config.Config) bool {
			return c.Tracing.Exporter == config.TracesOTLP
		}},
		{"MYSQL_DSN chooses MySQL in dev too", map[string]string{"ERPBRIDGE_PROFILE": "dev", "MYSQL_DSN": "u@tcp(db:3306)/x"}, func(c config.Config) bool {
			return c.Store.Kind == config.StoreMySQL
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fromEnv(t, tt.vars)
			if !tt.check(c) {
				t.Errorf("%+v", c)
			}
		})
	}
}

// A zero Config is never valid: each setting whose zero value would
// misbehave is named.
func TestZeroConfigIsInvalid(t *testing.T) {
	err := config.Config{}.Validate()
	if err == nil {
		t.Fatal("a zero Config validated")
	}
	for _, name := range []string{"ERPBRIDGE_PROFILE", "ERP_TIMEOUT", "ERP_RETRY_BUDGET", "SHUTDOWN_TIMEOUT", "WORKER_STOP_TIMEOUT",
		"MAX_BODY_BYTES", "HTTP_READ_TIMEOUT", "WEBHOOK_MAX_CONCURRENT", "CODEC_WRITE_TIMEOUT", "WORKFLOW_CACHE_SIZE", "DB_MAX_OPEN_CONNS",
		"TEMPORAL_UI_PORT", "ERP_KIND", "KINGDEE_TIMEOUT", "TRYTON_MAX_CONCURRENT", "LOG_LEVEL", "HTTP_ADDR", "TEMPORAL_ADDRESS", "TEMPORAL_TASK_QUEUE", "SQLITE_PATH"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("the zero Config's error does not name %s: %v", name, err)
		}
	}
}

// Validate catches the settings of a Config built from Default() by hand
// that would misbehave, one at a time, naming the variable.
func TestValidateHandBuilt(t *testing.T) {
	tests := []struct {
		name   string
		change func(*config.Config)
		want   string
	}{
		{"no read timeout", func(c *config.Config) { c.HTTP.ReadTimeout = 0 }, `HTTP_READ_TIMEOUT="0s" is not a positive duration`},
		{"no webhook slots", func(c *config.Config) { c.HTTP.WebhookConcurrency = 0 }, `WEBHOOK_MAX_CONCURRENT="0" is not a positive integer`},
		{"no body", func(c *config.Config) { c.HTTP.MaxBodyBytes = 0 }, `MAX_BODY_BYTES="0" is not a positive integer`},
		{"no listen address", func(c *config.Config) { c.HTTP.Addr = "" }, "HTTP_ADDR is empty"},
		{"negative drain window", func(c *config.Config) { c.HTTP.DrainWindow = -time.Second }, `DRAIN_WINDOW="-1s" is not a duration`},
		{"no task queue", func(c *config.Config) { c.Temporal.TaskQueue = "" }, "TEMPORAL_TASK_QUEUE is empty"},
		{"no cache", func(c *config.Config) { c.Temporal.WorkflowCacheSize = 0 }, `WORKFLOW_CACHE_SIZE="0" is not a positive integer`},
		{"no stop bound", func(c *config.Config) { c.Temporal.WorkerStopTimeout = 0 }, `WORKER_STOP_TIMEOUT="0s" is not a positive duration`},
		{"no ERP timeout", func(c *config.Config) { c.ERP.Timeout = 0 }, `ERP_TIMEOUT="0s" is not a positive duration`},
		{"ERP timeout past the attempt", func(c *config.Config) { c.ERP.Timeout = time.Minute },
			"the ERP sync's attempt timeout (ERP.AttemptTimeout, 45s) must be longer than ERP_TIMEOUT (1m0s)"},
		{"no retry budget", func(c *config.Config) { c.ERP.RetryBudget = 0 }, `ERP_RETRY_BUDGET="0s" is not a positive duration`},
		{"no ERP", func(c *config.Config) { c.ERP.URL = "" }, `ERP_URL="" is not an http(s) URL with a host`},
		{"codec write within read", func(c *config.Config) { c.Codec.WriteTimeout = c.Codec.ReadTimeout }, "CODEC_WRITE_TIMEOUT (30s) must be longer than CODEC_READ_TIMEOUT (30s)"},
		{"DSN without the store chosen", func(c *config.Config) { c.Store.MySQLDSN = "u@tcp(db:3306)/x" }, "MYSQL_DSN is set but the store is not chosen"},
		{"no SQLite file", func(c *config.Config) { c.Store.SQLitePath = "" }, "SQLITE_PATH is empty"},
		{"no pool", func(c *config.Config) { c.Store.MaxIdleConns = 0 }, `DB_MAX_IDLE_CONNS="0" is not a positive integer`},
		{"bad proxy", func(c *config.Config) { c.HTTP.TrustedProxies = []string{"proxy.internal"} }, `TRUSTED_PROXIES entry "proxy.internal"`},
		{"no log level", func(c *config.Config) { c.Log.Level = "" }, `LOG_LEVEL="" must be debug, info, warn or error`},
		{"migrating in production", func(c *config.Config) { c.Store.AutoMigrate = true }, "AUTO_MIGRATE=true is refused in the production profile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := config.Default()
			tt.change(&c)
			err := c.Validate()
			if err == nil {
				t.Fatal("validated")
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "configuration: "+tt.want) || strings.Contains(msg, "; ") {
				t.Errorf("error = %q, want the one problem %q", msg, tt.want)
			}
		})
	}
	ok := config.Default()
	ok.Store.Kind, ok.Store.MySQLDSN = config.StoreMySQL, "u@tcp(db:3306)/x"
	ok.ERP.Timeout, ok.ERP.AttemptTimeout = time.Minute, 75*time.Second
	ok.HTTP.DrainWindow = 0
	if err := ok.Validate(); err != nil {
		t.Errorf("a consistent hand-built Config: %v", err)
	}
}
