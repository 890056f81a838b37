package kingdee

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/kingdee/kdsim"
	"github.com/erpbridge/erpbridge/erp/mapping"
	"github.com/erpbridge/erpbridge/golden"
	"github.com/erpbridge/erpbridge/internal/testkit"
)

// Credentials of the test data centre; the secrets are checked for in every
// error and log line.
const (
	acctID    = "dc-test"
	username  = "erpbridge"
	appID     = "app-test"
	appSecret = "s3cr3t-app-Secret-7f2c"
	password  = "pa55-word-Secret-91bd"
)

var secrets = []string{appSecret, password}

// env is one simulator behind an httptest server and a Sink talking to it.
type env struct {
	t    *testing.T
	sim  *kdsim.Server
	srv  *httptest.Server
	sink *Sink
	cfg  Config
	logs *testkit.Buffer
}

type envOption func(*kdsim.Options, *Config)

// newEnv starts a simulator and a Sink with the default mapping (or m).
func newEnv(t *testing.T, m erp.Mapper, opts ...envOption) *env {
	t.Helper()
	so := kdsim.Options{AcctID: acctID, Username: username, AppID: appID, AppSecret: appSecret, Password: password}
	cfg := Config{AcctID: acctID, Username: username, AppID: appID, AppSecret: appSecret, Timeout: 5 * time.Second}
	for _, o := range opts {
		o(&so, &cfg)
	}
	sim := kdsim.New(so)
	srv := testkit.HTTPServer(t, sim.Handler())
	if cfg.URL == "" {
		cfg.URL = srv.URL + "/K3Cloud/"
	}
	if m == nil {
		set, err := mapping.Default(erp.KindKingdee)
		if err != nil {
			t.Fatalf("default Kingdee mapping: %v", err)
		}
		m = set
	}
	logs := &testkit.Buffer{}
	sink, err := New(cfg, m, WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e := &env{t: t, sim: sim, srv: srv, sink: sink, cfg: cfg, logs: logs}
	t.Cleanup(func() { noSecrets(t, "logs", logs.String()) })
	return e
}

func withPassword(so *kdsim.Options, c *Config) { c.AppID, c.AppSecret, c.Password = "", "", password }

func withMaxSessions(n int) envOption {
	return func(_ *kdsim.Options, c *Config) { c.MaxSessions = n }
}

func withTimeout(d time.Duration) envOption {
	return func(_ *kdsim.Options, c *Config) { c.Timeout = d }
}

func withSim(f func(*kdsim.Options)) envOption {
	return func(so *kdsim.Options, _ *Config) { f(so) }
}

// faults sets the simulator's faults.
func (e *env) faults(f kdsim.Faults) {
	e.t.Helper()
	if err := e.sim.SetFaults(f); err != nil {
		e.t.Fatalf("SetFaults: %v", err)
	}
}

// send sends r and fails the test on an error.
func (e *env) send(r erp.Record) erp.Result {
	e.t.Helper()
	res, err := e.sink.Send(e.t.Context(), r)
	if err != nil {
		e.t.Fatalf("Send %s: %v", r.Label(), detail(err))
	}
	return res
}

// sendErr sends r and returns its *erp.Error, failing the test on success.
func (e *env) sendErr(r erp.Record) *erp.Error {
	e.t.Helper()
	_, err := e.sink.Send(e.t.Context(), r)
	if err == nil {
		e.t.Fatalf("Send %s succeeded, want an error", r.Label())
	}
	var ee *erp.Error
	if !errors.As(err, &ee) {
		e.t.Fatalf("Send %s: %T %v, want *erp.Error", r.Label(), err, err)
	}
	noSecrets(e.t, "error", ee.Error())
	noSecrets(e.t, "error detail", ee.Detail())
	return ee
}

// bill returns the simulator's bill of form and number.
func (e *env) bill(form, number string) kdsim.Bill {
	e.t.Helper()
	b, ok := e.sim.Bill(form, number)
	if !ok {
		e.t.Fatalf("no %s bill %s in the simulator; bills: %v", form, number, e.sim.Bills())
	}
	return b
}

func detail(err error) string {
	var ee *erp.Error
	if errors.As(err, &ee) {
		return ee.Detail()
	}
	return err.Error()
}

// noSecrets fails the test when text holds a secret.
func noSecrets(t *testing.T, what, text string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("%s holds a secret: %s", what, text)
		}
	}
}

// goldenRecords are the records of the full golden files, in order.
func goldenRecords(t *testing.T) []erp.Record {
	t.Helper()
	var out []erp.Record
	for _, r := range golden.Records(t, "*_full.json") {
		out = append(out, r.Record)
	}
	return out
}

// goldenRecord returns the golden record of kind (the first one).
func goldenRecord(t *testing.T, kind string) erp.Record {
	t.Helper()
	all := goldenRecords(t)
	i := slices.IndexFunc(all, func(r erp.Record) bool { return r.Kind == kind })
	if i < 0 {
		t.Fatalf("no golden %s", kind)
	}
	return all[i]
}

// withData returns r with a newer version and data changed by edit.
func withData(t *testing.T, r erp.Record, version int64, edit func(map[string]any)) erp.Record {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(r.Data))
	dec.UseNumber()
	var d map[string]any
	if err := dec.Decode(&d); err != nil {
		t.Fatal(err)
	}
	edit(d)
	raw, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	r.Version, r.Data = version, raw
	return r
}

// carOrder is a Fenbeitong car order with its own id and total.
func carOrder(t *testing.T, id, total string) erp.Record {
	t.Helper()
	r := goldenRecord(t, "car_order")
	r.ExternalID = id
	return withData(t, r, r.Version, func(d map[string]any) {
		d["order_id"] = id
		d["price_info"].(map[string]any)["total_price"] = total
	})
}

// mapperFunc is an erp.Mapper made of a function.
type mapperFunc func(r erp.Record) (json.RawMessage, error)

func (f mapperFunc) Render(_ context.Context, r erp.Record) (json.RawMessage, error) { return f(r) }

// parse compiles a Kingdee mapping for a test.
func parse(t *testing.T, src string) *mapping.Set {
	t.Helper()
	set, err := mapping.Parse(erp.KindKingdee, "test.yaml", []byte(src))
	if err != nil {
		t.Fatalf("mapping: %v", err)
	}
	return set
}
