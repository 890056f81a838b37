package app

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/codec"
	"github.com/erpbridge/erpbridge/config"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// Every command that touches Temporal refuses to run without a payload key,
// unless told to run unencrypted; the refusal says how to fix it.
func TestCommandsRefuseWithoutPayloadKey(t *testing.T) {
	for _, cmd := range []string{"api", "worker", "all", "codec-server"} {
		var out, errOut bytes.Buffer
		code := Main([]string{cmd}, env(map[string]string{"ERPBRIDGE_PROFILE": "dev", "SQLITE_PATH": t.TempDir() + "/db"}), &out, &errOut)
		if code != 1 || !strings.Contains(errOut.String(), "PAYLOAD_KEY is not set") {
			t.Errorf("%s without PAYLOAD_KEY: exit %d, stderr %q", cmd, code, errOut.String())
		}
	}
	// Told to run unencrypted, api gets past the key check (and then fails to reach Temporal).
	var out, errOut bytes.Buffer
	code := Main([]string{"worker"}, env(map[string]string{"ALLOW_UNENCRYPTED_PAYLOADS": "true", "ERPBRIDGE_PROFILE": "dev",
		"SQLITE_PATH": t.TempDir() + "/db", "TEMPORAL_ADDRESS": "127.0.0.1:1"}), &out, &errOut)
	if code != 1 || strings.Contains(errOut.String(), "PAYLOAD_KEY") || !strings.Contains(errOut.String(), "connect to Temporal") {
		t.Fatalf("unencrypted worker without Temporal: exit %d, stderr %q", code, errOut.String())
	}
}

func TestUsageAndUnknownCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := Main([]string{"help"}, env(nil), &out, &errOut); code != 0 || !strings.Contains(out.String(), "codec-server") {
		t.Fatalf("help: exit %d, %q", code, out.String())
	}
	out.Reset()
	if code := Main([]string{"frobnicate"}, env(nil), &out, &errOut); code != 2 || !strings.Contains(errOut.String(), `unknown command "frobnicate"`) {
		t.Fatalf("unknown command: exit %d, %q", code, errOut.String())
	}
	errOut.Reset()
	if code := Main([]string{"api"}, env(map[string]string{"ERP_TIMEOUT": "soon"}), &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "ERP_TIMEOUT") {
		t.Fatalf("bad config: exit %d, %q", code, errOut.String())
	}
}

// migrate creates the schema and exits.
func TestMigrateCommand(t *testing.T) {
	path := t.TempDir() + "/erpbridge.db"
	var out, errOut bytes.Buffer
	if code := Main([]string{"migrate"}, env(map[string]string{"STORE": "sqlite", "SQLITE_PATH": path}), &out, &errOut); code != 0 {
		t.Fatalf("migrate: exit %d, %q", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), "schema migrated") {
		t.Fatalf("migrate logged %q", errOut.String())
	}
}

func TestDevUIOrigins(t *testing.T) {
	if got := devUIOrigins("127.0.0.1:7233", 9999); !slices.Equal(got, []string{"http://localhost:9999", "http://127.0.0.1:9999"}) {
		t.Fatalf("origins %q", got)
	}
	if got := devUIOrigins("10.1.2.3:7233", 8233); len(got) != 3 || got[2] != "http://10.1.2.3:8233" {
		t.Fatalf("origins %q", got)
	}
}

// The configuration's codec defaults are the codec package's own, and
// every codec setting reaches the server.
func TestCodecOptionsFromConfig(t *testing.T) {
	cfg, err := config.FromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	srv := codec.NewHTTPServer(cfg.Codec.Addr, nil, codecOptions(cfg, nil, nil))
	if cfg.Codec.MaxBodyBytes != codec.DefaultMaxBodyBytes || srv.ReadTimeout != codec.DefaultReadTimeout || srv.WriteTimeout != codec.DefaultWriteTimeout {
		t.Errorf("defaults: body %d, read %s, write %s; want the codec package's", cfg.Codec.MaxBodyBytes, srv.ReadTimeout, srv.WriteTimeout)
	}
	cfg.Codec.ReadTimeout, cfg.Codec.WriteTimeout, cfg.Codec.ServerToken = 3*time.Second, 7*time.Second, "tok"
	o := codecOptions(cfg, nil, nil)
	srv = codec.NewHTTPServer(cfg.Codec.Addr, nil, o)
	if srv.ReadTimeout != 3*time.Second || srv.WriteTimeout != 7*time.Second || o.Token != "tok" || srv.Addr != ":8234" {
		t.Errorf("configured: read %s, write %s, token %q, addr %s", srv.ReadTimeout, srv.WriteTimeout, o.Token, srv.Addr)
	}
}

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{time.Hour: "1h", 90 * time.Minute: "1h30m", 30 * time.Minute: "30m", 90 * time.Second: "1m30s", 45 * time.Second: "45s", 72 * time.Hour: "72h"} {
		if got := shortDuration(d); got != want {
			t.Errorf("shortDuration(%s) = %q, want %q", d, got, want)
		}
	}
}
