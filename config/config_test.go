package config_test

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/config"
)

// env returns a getenv that reads m.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// fromEnv is the configuration an environment of vars gives, failing the
// test when it is refused.
func fromEnv(t *testing.T, vars map[string]string) config.Config {
	t.Helper()
	c, err := config.FromEnv(env(vars))
	if err != nil {
		t.Fatalf("FromEnv: %v", err)
	}
	return c
}

// An environment that gives nothing, or only blanks, gives Default(), whose
// every value TestDocsGiveEveryDefault checks against docs/configuration.md.
func TestDefaults(t *testing.T) {
	for name, getenv := range map[string]func(string) string{
		"unset":       env(nil),
		"blank":       func(string) string { return "" },
		"white space": func(k string) string { return "  \t" },
	} {
		t.Run(name, func(t *testing.T) {
			got, err := config.FromEnv(getenv)
			if err != nil {
				t.Fatalf("FromEnv: %v", err)
			}
			if name == "white space" {
				// Only the settings that have defaults are compared: secrets have none.
				got.ERP.Token, got.Vendors.AutoX3AppSecret, got.Vendors.FenbeitongToken, got.Codec.ServerToken = "", "", "", ""
			}
			if want := config.Default(); !reflect.DeepEqual(got, want) {
				t.Errorf("FromEnv of nothing is not Default():\n%+v\nwant\n%+v", got, want)
			}
			if got.StoreName() != "sqlite:.data/erpbridge.db" {
				t.Errorf("StoreName = %q, want sqlite:.data/erpbridge.db", got.StoreName())
			}
		})
	}
}

func TestEverySetting(t *testing.T) {
	got := fromEnv(t, map[string]string{
		"HTTP_ADDR":                     " :9000 ",
		"SCHEDULES":                     "false",
		"SPLIT_BATCH_SIZE":              "50",
		"FENBEITONG_API_URL":            "https://open.fenbeijinfu.com",
		"FENBEITONG_APP_ID":             "app-1",
		"FENBEITONG_APP_KEY":            "app-key",
		"FENBEITONG_SIGN_KEY":           "sign-key",
		"FENBEITONG_EMPLOYEE_ID":        "emp-1",
		"FENBEITONG_EMPLOYEE_TYPE":      "1",
		"FENBEITONG_API_TOKEN_PATH":     "/open/api/auth/v1/dispense",
		"FENBEITONG_API_RPS":            "2",
		"FENBEITONG_API_PAGE_SIZE":      "100",
		"FENBEITONG_RECONCILE_EVERY":    "30m",
		"FENBEITONG_RECONCILE_LOOKBACK": "48h",
		"SPLIT_NOTIFY_CONCURRENCY":      "8",
		"BULK_WORKFLOW_TASKS":           "3",
		"BULK_ACTIVITIES":               "6",
		"SPLIT_RECORD_IDLE":             "30s",
		"EDGE_STORE_TIMEOUT":            "1500ms",
		"EDGE_TEMPORAL_TIMEOUT":         "3s",
		"TEMPORAL_MAX_PAYLOAD_BYTES":    "4194304",
		"SWEEP_EVERY":                   "5m",
		"SWEEP_STALE_AFTER":             "2h",
		"MYSQL_DSN":                     "erp:pw@tcp(db:3306)/erpbridge?parseTime=true",
		"SQLITE_PATH":                   "/var/lib/erpbridge/db.sqlite",
		"TEMPORAL_ADDRESS":              "temporal:7233",
		"TEMPORAL_NAMESPACE":            "erp",
		"TEMPORAL_TASK_QUEUE":           "erpbridge-prod",
		"TEMPORAL_TLS_CERT":             "/etc/erpbridge/client.pem",
		"TEMPORAL_TLS_KEY":              "/etc/erpbridge/client.key",
		"TEMPORAL_TLS_CA":               "/etc/erpbridge/ca.pem",
		"TEMPORAL_TLS_SERVER_NAME":      " ns.acct.tmprl.cloud ",
		"TEMPORAL_API_KEY":              "api-key",
		"ERP_URL":                       "https://erp.example.com",
		"ERP_TOKEN":                     "erp-token",
		"ERP_TIMEOUT":                   "45s",
		"ERP_RETRY_BUDGET":              "72h",
		"ERP_RETRY_INITIAL":             "2s",
		"ERP_RETRY_MAX_INTERVAL":        "1m",
		"AUTOX3_APP_SECRET":             "app-secret",
		"FENBEITONG_TOKEN":              "url-token",
		"FENBEITONG_ALLOWED_IPS":        "203.0.113.7",
		"TRUSTED_PROXIES":               "10.0.0.0/8, 192.168.1.1",
		"MAX_BODY_BYTES":                "2048",
		"PAYLOAD_KEY":                   "a2V5",
		"PAYLOAD_OLD_KEYS":              "b2xk,b2xkMg==",
		"ALLOW_UNENCRYPTED_PAYLOADS":    "true",
		"CODEC_ADDR":                    ":8300",
		"CODEC_SERVER_TOKEN":            "codec-token",
		"CODEC_CORS_ORIGINS":            "http://localhost:8233, https://ui.example.com,",
		"ERPSIM_ADDR":                   ":8091",
		"ERPSIM_DATA":                   "/tmp/erpsim.jsonl",
		"FENBEITONG_SIM_ADDR":           "127.0.0.1:18092",
		"OTEL_EXPORTER_OTLP_ENDPOINT":   "http://collector:4317",
		"OTEL_EXPORTER_OTLP_PROTOCOL":   "GRPC",
		"OTEL_SERVICE_NAME":             "erpbridge-eu",
		"METRICS_ADDR":                  ":9100",
		"DATA_DIR":                      "/var/lib/erpbridge",
		"TEMPORAL_UI_PORT":              "18233",
		"LOG_LEVEL":                     "debug",
		"SHUTDOWN_TIMEOUT":              "1m30s",
		"ADMIN_ADDR":                    "127.0.0.1:9090",
		"DRAIN_WINDOW":                  "0s",
		"ERPBRIDGE_PROFILE":             "DEV",
		"AUTO_MIGRATE":                  "false",
		"DB_MAX_OPEN_CONNS":             "64",
		"DB_MAX_IDLE_CONNS":             "16",
		"DB_EDGE_CONNS":                 "6",
		"TEMPORAL_NAMESPACE_RETENTION":  "240h",
		"WORKER_STOP_TIMEOUT":           "1m",
		"HTTP_READ_TIMEOUT":             "20s",
		"WEBHOOK_MAX_CONCURRENT":        "200",
		"CODEC_READ_TIMEOUT":            "5s",
		"CODEC_WRITE_TIMEOUT":           "15s",
		"CODEC_MAX_BODY_BYTES":          "4194304",
		"WORKFLOW_CACHE_SIZE":           "250",
		"PPROF_ADDR":                    "127.0.0.1:6060",
		"ERP_KIND":                      "HTTP",
		"KINGDEE_URL":                   "https://kd.example.com/K3Cloud/",
		"KINGDEE_ACCT_ID":               "62a0f0c1d2e3",
		"KINGDEE_USERNAME":              "erpbridge",
		"KINGDEE_APP_ID":                "231415_abc",
		"KINGDEE_APP_SECRET":            "kd-app-secret",
		"KINGDEE_LCID":                  "1033",
		"KINGDEE_MAX_SESSIONS":          "3",
		"KINGDEE_TIMEOUT":               "20s",
		"TRYTON_URL":                    "http://127.0.0.1:8000/",
		"TRYTON_DATABASE":               "erpbridge",
		"TRYTON_USER":                   "erpbridge",
		"TRYTON_PASSWORD":               "tryton-password",
		"TRYTON_TIMEOUT":                "10s",
		"TRYTON_MAX_CONCURRENT":         "2",
	})
	want := config.Config{
		Profile: config.ProfileDev,
		HTTP: config.HTTP{
			Addr:               ":9000",
			AdminAddr:          "127.0.0.1:9090",
			MetricsAddr:        ":9100",
			PprofAddr:          "127.0.0.1:6060",
			ReadTimeout:        20 * time.Second,
			MaxBodyBytes:       2048,
			WebhookConcurrency: 200,
			TrustedProxies:     []string{"10.0.0.0/8", "192.168.1.1"},
			ShutdownTimeout:    90 * time.Second,
			StoreTimeout:       1500 * time.Millisecond,
			TemporalTimeout:    3 * time.Second,
		},
		Store: config.Store{
			Kind:         config.StoreMySQL,
			MySQLDSN:     "erp:pw@tcp(db:3306)/erpbridge?parseTime=true",
			SQLitePath:   "/var/lib/erpbridge/db.sqlite",
			MaxOpenConns: 64,
			MaxIdleConns: 16,
			EdgeConns:    6,
		},
		Temporal: config.Temporal{
			Address:            "temporal:7233",
			Namespace:          "erp",
			TaskQueue:          "erpbridge-prod",
			TLSCert:            "/etc/erpbridge/client.pem",
			TLSKey:             "/etc/erpbridge/client.key",
			TLSCA:              "/etc/erpbridge/ca.pem",
			TLSServerName:      "ns.acct.tmprl.cloud",
			APIKey:             "api-key",
			NamespaceRetention: 240 * time.Hour,
			WorkflowCacheSize:  250,
			WorkerStopTimeout:  time.Minute,
			MaxPayloadBytes:    4 << 20,
		},
		ERP: config.ERP{
			Kind:             "http",
			URL:              "https://erp.example.com",
			Token:            "erp-token",
			Timeout:          45 * time.Second,
			AttemptTimeout:   time.Minute,
			RetryBudget:      72 * time.Hour,
			RetryInitial:     2 * time.Second,
			RetryMaxInterval: time.Minute,
		},
		Kingdee: config.Kingdee{URL: "https://kd.example.com/K3Cloud/", AcctID: "62a0f0c1d2e3", Username: "erpbridge",
			AppID: "231415_abc", AppSecret: "kd-app-secret", LCID: 1033, MaxSessions: 3, Timeout: 20 * time.Second},
		Tryton: config.Tryton{URL: "http://127.0.0.1:8000/", Database: "erpbridge", User: "erpbridge", Password: "tryton-password",
			Timeout: 10 * time.Second, MaxConcurrent: 2},
		Codec: config.Codec{
			PayloadKey:       "a2V5",
			PayloadOldKeys:   "b2xk,b2xkMg==",
			AllowUnencrypted: true,
			Addr:             ":8300",
			ServerToken:      "codec-token",
			CORSOrigins:      []string{"http://localhost:8233", "https://ui.example.com"},
			ReadTimeout:      5 * time.Second,
			WriteTimeout:     15 * time.Second,
			MaxBodyBytes:     4 << 20,
		},
		Vendors: config.Vendors{
			AutoX3AppSecret:      "app-secret",
			FenbeitongToken:      "url-token",
			FenbeitongAllowedIPs: []netip.Prefix{netip.MustParsePrefix("203.0.113.7/32")},
		},
		Reconcile: config.Reconcile{URL: "https://open.fenbeijinfu.com", AppID: "app-1", AppKey: "app-key", SignKey: "sign-key", EmployeeID: "emp-1",
			EmployeeType: "1", TokenPath: "/open/api/auth/v1/dispense", RPS: 2, PageSize: 100, Every: 30 * time.Minute, Lookback: 48 * time.Hour},
		Split:     config.Split{BatchSize: 50, NotifyConcurrency: 8, BulkWorkflowTasks: 3, BulkActivities: 6, RecordIdleTimeout: 30 * time.Second},
		Schedules: config.Schedules{Enabled: false, SweepEvery: 5 * time.Minute, StaleAfter: 2 * time.Hour},
		Dev:       config.Dev{DataDir: "/var/lib/erpbridge", TemporalUIPort: 18233, ERPSimAddr: ":8091", ERPSimData: "/tmp/erpsim.jsonl", FenbeitongSimAddr: "127.0.0.1:18092"},
		Log:       config.Log{Level: "debug"},
		Tracing:   config.Tracing{Exporter: "otlp", Endpoint: "http://collector:4317", Protocol: "grpc", ServiceName: "erpbridge-eu"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("FromEnv =\n%+v\nwant\n%+v", got, want)
	}
	if name := got.StoreName(); name != "mysql" {
		t.Errorf("StoreName = %q, want mysql (and never the DSN, which holds a password)", name)
	}
}

func TestValidValues(t *testing.T) {
	tests := []struct {
		key, value string
		check      func(config.Config) bool
	}{
		{"ERP_TIMEOUT", "500ms", func(c config.Config) bool { return c.ERP.Timeout == 500*time.Millisecond }},
		{"ERP_RETRY_BUDGET", "168h", func(c config.Config) bool { return c.ERP.RetryBudget == 168*time.Hour }},
		{"SHUTDOWN_TIMEOUT", "5s", func(c config.Config) bool { return c.HTTP.ShutdownTimeout == 5*time.Second }},
		{"MAX_BODY_BYTES", "1", func(c config.Config) bool { return c.HTTP.MaxBodyBytes == 1 }},
		{"MAX_BODY_BYTES", "10485760", func(c config.Config) bool { return c.HTTP.MaxBodyBytes == 10<<20 }},
		{"TEMPORAL_UI_PORT", "65535", func(c config.Config) bool { return c.Dev.TemporalUIPort == 65535 }},
		// Local state follows DATA_DIR, and the ERP defaults to the simulator wherever it listens.
		{"DATA_DIR", "/srv/state", func(c config.Config) bool {
			return c.Store.SQLitePath == "/srv/state/erpbridge.db" && c.Dev.ERPSimData == "/srv/state/erpsim.jsonl"
		}},
		{"ERPSIM_ADDR", ":18090", func(c config.Config) bool { return c.ERP.URL == "http://127.0.0.1:18090" }},
		{"ERPSIM_ADDR", "10.0.0.5:8090", func(c config.Config) bool { return c.ERP.URL == "http://10.0.0.5:8090" }},
		{"ALLOW_UNENCRYPTED_PAYLOADS", "1", func(c config.Config) bool { return c.Codec.AllowUnencrypted }},
		{"ALLOW_UNENCRYPTED_PAYLOADS", "TRUE", func(c config.Config) bool { return c.Codec.AllowUnencrypted }},
		{"ALLOW_UNENCRYPTED_PAYLOADS", "false", func(c config.Config) bool { return !c.Codec.AllowUnencrypted }},
		{"ALLOW_UNENCRYPTED_PAYLOADS", "0", func(c config.Config) bool { return !c.Codec.AllowUnencrypted }},
		{"WORKFLOW_CACHE_SIZE", "1", func(c config.Config) bool { return c.Temporal.WorkflowCacheSize == 1 }},
		{"TEMPORAL_GRPC_COMPRESSION", "gzip", func(c config.Config) bool { return c.Temporal.Gzip }},
		{"TEMPORAL_GRPC_COMPRESSION", "none", func(c config.Config) bool { return !c.Temporal.Gzip }},
		{"PPROF_ADDR", ":6060", func(c config.Config) bool { return c.HTTP.PprofAddr == ":6060" }},
		{"LOG_LEVEL", "info", func(c config.Config) bool { return c.Log.Level == "info" }},
		{"LOG_LEVEL", "warn", func(c config.Config) bool { return c.Log.Level == "warn" }},
		{"LOG_LEVEL", "error", func(c config.Config) bool { return c.Log.Level == "error" }},
	}
	for _, tt := range tests {
		t.Run(tt.key+"="+tt.value, func(t *testing.T) {
			c := fromEnv(t, map[string]string{tt.key: tt.value})
			if !tt.check(c) {
				t.Errorf("%s=%q not read as expected: %+v", tt.key, tt.value, c)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	const durHint = "is not a positive duration like 30s or 72h"
	tests := []struct {
		key, value string
		want       string // the whole message after "configuration: "
	}{
		{"ERP_TIMEOUT", "abc", `ERP_TIMEOUT="abc" ` + durHint},
		{"ERP_TIMEOUT", "30", `ERP_TIMEOUT="30" ` + durHint},
		{"ERP_TIMEOUT", "0s", `ERP_TIMEOUT="0s" ` + durHint},
		{"ERP_TIMEOUT", "-5s", `ERP_TIMEOUT="-5s" ` + durHint},
		{"ERP_RETRY_BUDGET", "7d", `ERP_RETRY_BUDGET="7d" ` + durHint},
		{"ERP_RETRY_BUDGET", "0", `ERP_RETRY_BUDGET="0" ` + durHint},
		{"SHUTDOWN_TIMEOUT", "soon", `SHUTDOWN_TIMEOUT="soon" ` + durHint},
		{"SHUTDOWN_TIMEOUT", "-1m", `SHUTDOWN_TIMEOUT="-1m" ` + durHint},

		{"MAX_BODY_BYTES", "1MiB", `MAX_BODY_BYTES="1MiB" is not a positive integer`},
		{"MAX_BODY_BYTES", "0", `MAX_BODY_BYTES="0" is not a positive integer`},
		{"MAX_BODY_BYTES", "-1", `MAX_BODY_BYTES="-1" is not a positive integer`},
		{"MAX_BODY_BYTES", "1.5", `MAX_BODY_BYTES="1.5" is not a positive integer`},
		{"MAX_BODY_BYTES", "99999999999999999999", `MAX_BODY_BYTES="99999999999999999999" is not a positive integer`},

		{"OTEL_TRACES_EXPORTER", "zipkin", `OTEL_TRACES_EXPORTER="zipkin" must be otlp, console or none`},
		{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", `the OTLP protocol "http/json" (OTEL_EXPORTER_OTLP_PROTOCOL or OTEL_EXPORTER_OTLP_TRACES_PROTOCOL) must be grpc or http/protobuf`},
		{"OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317", `the OTLP endpoint "collector:4317" (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is not a URL like http://collector:4318`},
		{"OTEL_SDK_DISABLED", "yes", `OTEL_SDK_DISABLED="yes" is not true or false`},

		{"HTTP_READ_TIMEOUT", "0", `HTTP_READ_TIMEOUT="0" ` + durHint},
		{"WEBHOOK_MAX_CONCURRENT", "0", `WEBHOOK_MAX_CONCURRENT="0" is not a positive integer`},
		{"WEBHOOK_MAX_CONCURRENT", "many", `WEBHOOK_MAX_CONCURRENT="many" is not a positive integer`},
		{"CODEC_MAX_BODY_BYTES", "16MiB", `CODEC_MAX_BODY_BYTES="16MiB" is not a positive integer`},
		{"CODEC_READ_TIMEOUT", "2m", "CODEC_WRITE_TIMEOUT (1m0s) must be longer than CODEC_READ_TIMEOUT (2m0s): the write timeout counts from the end of the headers, so it includes reading the body"},
		{"CODEC_WRITE_TIMEOUT", "30s", "CODEC_WRITE_TIMEOUT (30s) must be longer than CODEC_READ_TIMEOUT (30s): the write timeout counts from the end of the headers, so it includes reading the body"},

		{"TEMPORAL_UI_PORT", "0", `TEMPORAL_UI_PORT="0" is not a port number`},
		{"TEMPORAL_UI_PORT", "65536", `TEMPORAL_UI_PORT="65536" is not a port number`},

		{"ALLOW_UNENCRYPTED_PAYLOADS", "yes", `ALLOW_UNENCRYPTED_PAYLOADS="yes" is not true or false`},
		{"ALLOW_UNENCRYPTED_PAYLOADS", "on", `ALLOW_UNENCRYPTED_PAYLOADS="on" is not true or false`},

		{"WORKFLOW_CACHE_SIZE", "0", `WORKFLOW_CACHE_SIZE="0" is not a positive integer`},
		{"TEMPORAL_GRPC_COMPRESSION", "zstd", `TEMPORAL_GRPC_COMPRESSION="zstd" must be none or gzip`},
		{"WORKFLOW_CACHE_SIZE", "-1", `WORKFLOW_CACHE_SIZE="-1" is not a positive integer`},
		{"WORKFLOW_CACHE_SIZE", "2k", `WORKFLOW_CACHE_SIZE="2k" is not a positive integer`},
		{"PPROF_ADDR", "6060", `PPROF_ADDR="6060" is not a host:port like 127.0.0.1:6060`},
		{"PPROF_ADDR", "localhost:", `PPROF_ADDR="localhost:" is not a host:port like 127.0.0.1:6060`},

		{"LOG_LEVEL", "verbose", `LOG_LEVEL="verbose" must be debug, info, warn or error`},
		{"LOG_LEVEL", "trace", `LOG_LEVEL="trace" must be debug, info, warn or error`},
	}
	for _, tt := range tests {
		t.Run(tt.key+"="+tt.value, func(t *testing.T) {
			_, err := config.FromEnv(env(map[string]string{tt.key: tt.value}))
			if err == nil {
				t.Fatalf("FromEnv accepted %s=%q", tt.key, tt.value)
			}
			if got, want := err.Error(), "configuration: "+tt.want; got != want {
				t.Errorf("error = %q\nwant    %q", got, want)
			}
		})
	}
}

func TestAddressListErrors(t *testing.T) {
	tests := []struct {
		key, value string
		entry      string // the entry the message must name
	}{
		{"FENBEITONG_ALLOWED_IPS", "fenbeitong.example.com", "fenbeitong.example.com"},
		{"FENBEITONG_ALLOWED_IPS", "203.0.113.7, 10.0.0.0/33", "10.0.0.0/33"},
		{"FENBEITONG_ALLOWED_IPS", "1.2.3.4.5", "1.2.3.4.5"},
		{"FENBEITONG_ALLOWED_IPS", "2001:db8::/129", "2001:db8::/129"},
		{"FENBEITONG_ALLOWED_IPS", "10.0.0.0/", "10.0.0.0/"},
		{"TRUSTED_PROXIES", "proxy.internal", "proxy.internal"},
		{"TRUSTED_PROXIES", "10.0.0.0/8,300.1.1.1", "300.1.1.1"},
	}
	for _, tt := range tests {
		t.Run(tt.key+"="+tt.value, func(t *testing.T) {
			_, err := config.FromEnv(env(map[string]string{tt.key: tt.value}))
			if err == nil {
				t.Fatalf("FromEnv accepted %s=%q", tt.key, tt.value)
			}
			prefix := "configuration: " + tt.key + ` entry "` + tt.entry + `": `
			msg := err.Error()
			if !strings.HasPrefix(msg, prefix) || len(msg) == len(prefix) || strings.Contains(msg, ";") {
				t.Errorf("error = %q, want one problem: %q followed by the parser's reason", msg, prefix)
			}
		})
	}
}

func TestErrorsAreAllReported(t *testing.T) {
	_, err := config.FromEnv(env(map[string]string{
		"ERP_TIMEOUT":                "x",
		"MAX_BODY_BYTES":             "0",
		"ALLOW_UNENCRYPTED_PAYLOADS": "maybe",
		"FENBEITONG_ALLOWED_IPS":     "nope",
		"TRUSTED_PROXIES":            "nope2",
		"LOG_LEVEL":                  "loud",
	}))
	if err == nil {
		t.Fatal("FromEnv accepted six bad settings")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "configuration: ") {
		t.Errorf("error %q lacks the configuration: prefix", msg)
	}
	parts := strings.Split(strings.TrimPrefix(msg, "configuration: "), "; ")
	if len(parts) != 6 {
		t.Fatalf("error names %d problems, want 6: %q", len(parts), msg)
	}
	for i, key := range []string{"ERP_TIMEOUT=", "MAX_BODY_BYTES=", "ALLOW_UNENCRYPTED_PAYLOADS=", "FENBEITONG_ALLOWED_IPS entry", "TRUSTED_PROXIES entry", "LOG_LEVEL="} {
		if !strings.HasPrefix(parts[i], key) {
			t.Errorf("problem %d = %q, want it to start with %q", i, parts[i], key)
		}
	}
}

func TestFenbeitongAllowedIPs(t *testing.T) {
	tests := []struct {
		value    string
		want     []string // prefixes
		contains []string // addresses the list must hold
		excludes []string // addresses it must not
	}{
		{value: "", want: nil},
		{value: " , ,", want: nil},
		{value: "203.0.113.7", want: []string{"203.0.113.7/32"},
			contains: []string{"203.0.113.7"}, excludes: []string{"203.0.113.8", "203.0.113.6"}},
		{value: "2001:db8::1", want: []string{"2001:db8::1/128"},
			contains: []string{"2001:db8::1"}, excludes: []string{"2001:db8::2"}},
		{value: "198.51.100.0/24", want: []string{"198.51.100.0/24"},
			contains: []string{"198.51.100.0", "198.51.100.255"}, excludes: []string{"198.51.101.0"}},
		{value: "2001:db8::/32", want: []string{"2001:db8::/32"},
			contains: []string{"2001:db8:ffff::1"}, excludes: []string{"2001:db9::1"}},
		{value: " 203.0.113.7 ,10.0.0.0/8,, 2001:db8::/32 ", want: []string{"203.0.113.7/32", "10.0.0.0/8", "2001:db8::/32"},
			contains: []string{"203.0.113.7", "10.255.0.1", "2001:db8::5"}, excludes: []string{"11.0.0.1", "203.0.113.70"}},
		// A CIDR written with host bits set still covers its whole network.
		{value: "10.1.2.3/16", want: []string{"10.1.2.3/16"},
			contains: []string{"10.1.0.1", "10.1.255.254"}, excludes: []string{"10.2.0.1"}},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			c := fromEnv(t, map[string]string{"FENBEITONG_ALLOWED_IPS": tt.value})
			var got []string
			for _, p := range c.Vendors.FenbeitongAllowedIPs {
				got = append(got, p.String())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("FenbeitongAllowedIPs = %v, want %v", got, tt.want)
			}
			in := func(a string) bool {
				addr := netip.MustParseAddr(a)
				for _, p := range c.Vendors.FenbeitongAllowedIPs {
					if p.Contains(addr) {
						return true
					}
				}
				return false
			}
			for _, a := range tt.contains {
				if !in(a) {
					t.Errorf("%s is not covered", a)
				}
			}
			for _, a := range tt.excludes {
				if in(a) {
					t.Errorf("%s is covered", a)
				}
			}
		})
	}
}

func TestTrustedProxiesKeptAsWritten(t *testing.T) {
	c := fromEnv(t, map[string]string{"TRUSTED_PROXIES": " 10.0.0.1 , 172.16.0.0/12,,fd00::/8 "})
	if want := []string{"10.0.0.1", "172.16.0.0/12", "fd00::/8"}; !reflect.DeepEqual(c.HTTP.TrustedProxies, want) {
		t.Errorf("TrustedProxies = %q, want %q", c.HTTP.TrustedProxies, want)
	}
}

// A secret of white space only is no secret: the endpoint must stay closed.
func TestWhiteSpaceSecretsCountAsUnset(t *testing.T) {
	env := map[string]string{"AUTOX3_APP_SECRET": "  ", "FENBEITONG_TOKEN": "\n", "ERP_TOKEN": " tok\n", "CODEC_SERVER_TOKEN": "\t"}
	c, err := config.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.Vendors.AutoX3AppSecret != "" || c.Vendors.FenbeitongToken != "" || c.Codec.ServerToken != "" || c.ERP.Token != "tok" {
		t.Fatalf("secrets read as %q %q %q %q", c.Vendors.AutoX3AppSecret, c.Vendors.FenbeitongToken, c.Codec.ServerToken, c.ERP.Token)
	}
}

// IPv4-mapped entries match the IPv4 client addresses they name.
func TestAllowedIPsUnmapIPv4(t *testing.T) {
	env := map[string]string{"FENBEITONG_ALLOWED_IPS": "::ffff:203.0.113.7, ::ffff:198.51.100.0/120", "LOG_LEVEL": "INFO"}
	c, err := config.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	for _, ip := range []string{"203.0.113.7", "198.51.100.9"} {
		a := netip.MustParseAddr(ip)
		ok := false
		for _, p := range c.Vendors.FenbeitongAllowedIPs {
			ok = ok || p.Contains(a)
		}
		if !ok {
			t.Errorf("%s not allowed by %v", ip, c.Vendors.FenbeitongAllowedIPs)
		}
	}
	if c.Log.Level != "info" {
		t.Errorf("LOG_LEVEL INFO read as %q", c.Log.Level)
	}
	if _, err := config.FromEnv(func(k string) string {
		return map[string]string{"FENBEITONG_ALLOWED_IPS": "::ffff:0:0/64"}[k]
	}); err == nil || !strings.Contains(err.Error(), "/96") {
		t.Fatalf("short IPv4-mapped prefix: %v", err)
	}
}

func TestRetryIntervalsMustBeOrdered(t *testing.T) {
	_, err := config.FromEnv(func(k string) string {
		return map[string]string{"ERP_RETRY_INITIAL": "5m", "ERP_RETRY_MAX_INTERVAL": "1m"}[k]
	})
	if err == nil || !strings.Contains(err.Error(), "ERP_RETRY_MAX_INTERVAL (1m0s) is shorter than ERP_RETRY_INITIAL (5m0s)") {
		t.Fatalf("err = %v", err)
	}
}

// The open API's settings go together: a URL without its keys is refused,
// naming each missing variable and never a secret.
func TestReconcileNeedsItsKeys(t *testing.T) {
	_, err := config.FromEnv(env(map[string]string{"FENBEITONG_API_URL": "https://open.example.com", "FENBEITONG_APP_KEY": "very-secret-key"}))
	if err == nil {
		t.Fatal("a URL without app id, sign key and employee was taken")
	}
	for _, want := range []string{"FENBEITONG_APP_ID", "FENBEITONG_SIGN_KEY", "FENBEITONG_EMPLOYEE_ID"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if strings.Contains(err.Error(), "very-secret-key") || strings.Contains(err.Error(), "FENBEITONG_APP_KEY is not") {
		t.Errorf("error %q quotes or misses the key given", err)
	}
}
