package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/config"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/kingdee/kdsim"
	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/internal/testkit"
)

const (
	kdAcct   = "62a0f0c1d2e3"
	kdUser   = "erpbridge"
	kdAppID  = "231415_erpbridge"
	kdSecret = "kd-app-secret-for-tests"
)

// goldenRecord is the record the HTTP contract sends for a golden sample,
// e.g. "fenbeitong_car_sample".
func goldenRecord(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "golden", "testdata", "golden", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		ERP struct {
			Body json.RawMessage `json:"body"`
		} `json:"erp"`
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	return g.ERP.Body
}

// carOrder is the golden car order with its total replaced.
func carOrder(t *testing.T, total string) erp.Record {
	t.Helper()
	var r erp.Record
	body := strings.Replace(string(goldenRecord(t, "fenbeitong_car_sample")), `"total_price": "14.16"`, `"total_price": "`+total+`"`, 1)
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(r.Data), total) {
		t.Fatalf("the golden car order's total was not replaced")
	}
	return r
}

// kingdeeConfig is a Config whose ERP is Kingdee at url.
func kingdeeConfig(url string) config.Config {
	cfg := config.Default()
	cfg.ERP.Kind = erp.KindKingdee
	cfg.ERP.Timeout, cfg.ERP.AttemptTimeout = 4*time.Second, 19*time.Second
	cfg.Kingdee = config.Kingdee{URL: url, AcctID: kdAcct, Username: kdUser, AppID: kdAppID, AppSecret: kdSecret,
		LCID: 2052, MaxSessions: 2, Timeout: 2 * time.Second}
	return cfg
}

// writeFile writes content to a fresh file named name and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// NewSink builds what ERP_KIND names: the HTTP contract's client, or a
// connector with the default mapping, whose sends reach the ERP and come
// back with its document; a connector's send is bounded by ERP_TIMEOUT.
func TestNewSinkChoosesTheERP(t *testing.T) {
	s, err := NewSink(config.Default(), nil)
	if _, ok := s.(*erp.Client); err != nil || !ok {
		t.Fatalf("http: %T, %v", s, err)
	}

	sim := kdsim.New(kdsim.Options{AcctID: kdAcct, Username: kdUser, AppID: kdAppID, AppSecret: kdSecret})
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	var logs bytes.Buffer
	cfg := kingdeeConfig(srv.URL + "/K3Cloud/")
	s, err = NewSink(cfg, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	r := carOrder(t, "98765432101234.5678")
	res, err := s.Send(t.Context(), r)
	if err != nil || !res.Created || res.DocumentID == "" || res.Number != erp.DocumentNumber(r) {
		t.Fatalf("send to Kingdee: %+v, %v", res, err)
	}
	bill, ok := sim.Bill("AP_Payable", erp.DocumentNumber(r))
	if !ok || !strings.Contains(string(bill.Model), `"FTaxPrice":98765432101234.5678`) {
		t.Fatalf("the bill of the default mapping: %v %s", ok, bill.Model)
	}
	if strings.Contains(logs.String(), kdSecret) {
		t.Errorf("the connector's log holds the app secret")
	}

	// A Kingdee that answers after ERP_TIMEOUT: the send ends at the bound,
	// retryable, whatever KINGDEE_TIMEOUT allows each call.
	if err := sim.SetFaults(kdsim.Faults{LatencyMS: 3000}); err != nil {
		t.Fatal(err)
	}
	cfg.ERP.Timeout, cfg.Kingdee.Timeout = time.Second, 10*time.Second
	s, err = NewSink(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	_, err = s.Send(t.Context(), carOrder(t, "1.5"))
	var e *erp.Error
	if !errors.As(err, &e) || !e.Retryable {
		t.Fatalf("a send past ERP_TIMEOUT: %v, want a retryable *erp.Error", err)
	}
	if took := time.Since(began); took > 2500*time.Millisecond {
		t.Errorf("the send took %s, past ERP_TIMEOUT (1s)", took)
	}
}

// What a connector cannot start with is refused by NewSink, naming the
// variable, or the mapping file, kind and expression.
func TestNewSinkRefusals(t *testing.T) {
	broken := writeFile(t, "broken.yaml", "erp: tryton\nkinds:\n  car_order: |\n    {model: \"account.invoice\", values: .data | .nope(}\n")
	forKingdee := writeFile(t, "kingdee.yaml", "erp: kingdee\nkinds:\n  \"*\": |\n    {skip: \"x\"}\n")
	tryton := config.Default()
	tryton.ERP.Kind = erp.KindTryton
	tryton.ERP.Timeout = 2 * time.Minute
	tryton.Tryton.URL, tryton.Tryton.Database, tryton.Tryton.User, tryton.Tryton.Password = "http://127.0.0.1:1/", "erpbridge", "erpbridge", "pw"
	tests := []struct {
		name   string
		change func(*config.Config)
		want   []string
	}{
		{"kingdee without settings", func(c *config.Config) { *c = kingdeeConfig("") }, []string{"KINGDEE_URL: must be set"}},
		{"kingdee without a login", func(c *config.Config) {
			*c = kingdeeConfig("http://127.0.0.1:1/K3Cloud/")
			c.Kingdee.AppID, c.Kingdee.AppSecret = "", ""
		}, []string{"KINGDEE_PASSWORD: must be set"}},
		{"tryton without a password", func(c *config.Config) { *c = tryton; c.Tryton.Password = "" }, []string{"TRYTON_PASSWORD: must be set"}},
		{"a mapping that does not compile", func(c *config.Config) { *c = tryton; c.ERP.Mapping = broken },
			[]string{"ERP_KIND=tryton", "mapping " + broken, "kind car_order", "line 4"}},
		{"a mapping of the other ERP", func(c *config.Config) { *c = tryton; c.ERP.Mapping = forKingdee },
			[]string{"mapping " + forKingdee, "the file is for kingdee, not tryton"}},
		{"a missing mapping file", func(c *config.Config) { *c = tryton; c.ERP.Mapping = "/nonexistent/m.yaml" },
			[]string{"/nonexistent/m.yaml", "no such file"}},
		{"an unknown kind", func(c *config.Config) { c.ERP.Kind = "sap" }, []string{`ERP_KIND="sap"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			tt.change(&cfg)
			_, err := NewSink(cfg, nil)
			if err == nil {
				t.Fatal("NewSink accepted it")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// The worker refuses to start, before it opens the database, on a
// connector's missing settings and on a mapping that does not compile.
func TestWorkerRefusesABadERP(t *testing.T) {
	dir := t.TempDir()
	broken := writeFile(t, "m.yaml", "erp: kingdee\nkinds:\n  car_order: |\n    {formid: \"AP_Payable\", model: {FDATE: .data.create_time | dec_add(}}\n")
	base := map[string]string{"PAYLOAD_KEY": testPayloadKey, "STORE": "sqlite", "SQLITE_PATH": filepath.Join(dir, "erpbridge.db"),
		"ERP_KIND": "kingdee"}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	code, out := runMain(t, base, "worker")
	for _, want := range []string{"KINGDEE_URL: must be set", "KINGDEE_ACCT_ID: must be set", "KINGDEE_USERNAME: must be set"} {
		if code != 1 || !strings.Contains(out, want) {
			t.Errorf("worker without Kingdee settings: exit %d, %q; want %q", code, out, want)
		}
	}
	code, out = runMain(t, with(map[string]string{"KINGDEE_URL": "http://127.0.0.1:1/K3Cloud/", "KINGDEE_ACCT_ID": kdAcct,
		"KINGDEE_USERNAME": kdUser, "KINGDEE_PASSWORD": "hunter2", "ERP_MAPPING": broken}), "all")
	if code != 1 || !strings.Contains(out, "mapping "+broken+": kind car_order") || strings.Contains(out, "hunter2") {
		t.Errorf("all with a broken mapping: exit %d, %q", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "erpbridge.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused worker opened the database: %v", err)
	}
}

// `erpbridge mapping check` compiles a file or the defaults and lists the
// kinds; a file that does not compile exits 1 naming the file, the kind and
// where. `mapping render` prints what a record becomes, numbers exact.
func TestMappingCommands(t *testing.T) {
	good := writeFile(t, "good.yaml", "erp: tryton\nkinds:\n  car_order: |\n    {model: \"account.invoice\", values: {description: .number}}\n")
	broken := writeFile(t, "broken.yaml", "erp: kingdee\nkinds:\n  car_order: |\n    {formid: \"AP_Payable\",\n     model: {FDATE: (.data.create_time}}\n")
	record := writeFile(t, "record.json", string(goldenRecord(t, "fenbeitong_car_sample")))
	var r erp.Record
	_ = json.Unmarshal(goldenRecord(t, "fenbeitong_car_sample"), &r)
	exact := carOrder(t, "98765432101234.5678")
	exact.Data = json.RawMessage(strings.Replace(string(exact.Data), `"amount": "14"`, `"amount": "98765432101234.5678"`, 1))
	exactJSON, _ := json.Marshal(exact)
	exactFile := writeFile(t, "exact.json", string(exactJSON))

	tests := []struct {
		name     string
		vars     map[string]string
		args     []string
		code     int
		want     []string
		dontWant []string
	}{
		{"check the default of ERP_KIND", map[string]string{"ERP_KIND": "tryton"}, []string{"mapping", "check"}, 0,
			[]string{"defaults/tryton.yaml: the default mapping for tryton", "car_order ok", "reception_order ok"}, []string{"kingdee"}},
		{"check both defaults for http", nil, []string{"mapping", "check"}, 0,
			[]string{"defaults/kingdee.yaml", "defaults/tryton.yaml"}, nil},
		{"check ERP_MAPPING", map[string]string{"ERP_KIND": "tryton", "ERP_MAPPING": good}, []string{"mapping", "check"}, 0,
			[]string{good + ": mapping for tryton", "car_order ok"}, []string{"defaults/"}},
		{"check a file for the ERP it names", nil, []string{"mapping", "check", good}, 0, []string{good + ": mapping for tryton", "car_order ok"}, nil},
		{"check a broken file", nil, []string{"mapping", "check", broken}, 1,
			[]string{"erpbridge mapping: mapping " + broken + ": kind car_order: line 5"}, []string{" ok"}},
		{"check a file for the other ERP", map[string]string{"ERP_KIND": "kingdee"}, []string{"mapping", "check", good}, 1,
			[]string{"the file is for tryton, not kingdee"}, nil},
		{"render with the default", nil, []string{"mapping", "render", "--erp", "tryton", "--kind", "car_order", record}, 0,
			[]string{`"model": "account.invoice"`, `"reference"`, `"unit_price": 10`}, nil},
		{"render exactly, flags after the file", map[string]string{"ERP_KIND": "kingdee"}, []string{"mapping", "render", exactFile, "--kind", "car_order"}, 0,
			[]string{`"formid": "AP_Payable"`, `"FTaxPrice": 98765432101234.5678`}, []string{"e+13", "98765432101234.57,"}},
		{"render a kind without a program", nil, []string{"mapping", "render", "--erp", "tryton", "--kind", "maintenance_plan_item", record}, 1,
			[]string{"kind maintenance_plan_item: no mapping for this kind"}, nil},
		{"render needs an ERP", nil, []string{"mapping", "render", record}, 1, []string{"say --erp kingdee or --erp tryton"}, nil},
		{"an ERP without mappings", nil, []string{"mapping", "check", "--erp", "http"}, 1, []string{`--erp "http": mappings are for kingdee or tryton`}, nil},
		{"no subcommand", nil, []string{"mapping"}, 1, []string{"usage:", "say check or render"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := runMain(t, tt.vars, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d: %s", code, tt.code, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output does not say %q:\n%s", w, out)
				}
			}
			for _, w := range tt.dontWant {
				if strings.Contains(out, w) {
					t.Errorf("output says %q:\n%s", w, out)
				}
			}
		})
	}
}

// `erpbridge erpsim --kind kingdee` serves K3Cloud's WebAPI with the
// Kingdee settings' credentials: the kingdee connector logs in and saves a
// bill through it. Without credentials it refuses, naming the variables.
func TestERPSimKingdee(t *testing.T) {
	code, out := runMain(t, map[string]string{"KINGDEE_APP_ID": kdAppID}, "erpsim", "--kind", "kingdee")
	if code != 1 || !strings.Contains(out, "set KINGDEE_ACCT_ID; KINGDEE_USERNAME; KINGDEE_APP_ID with KINGDEE_APP_SECRET, or KINGDEE_PASSWORD") {
		t.Fatalf("erpsim --kind kingdee without credentials: exit %d, %q", code, out)
	}
	if code, out := runMain(t, nil, "erpsim", "--kind", "sap"); code != 1 || !strings.Contains(out, `--kind "sap": the simulators are http and kingdee`) {
		t.Fatalf("erpsim --kind sap: exit %d, %q", code, out)
	}

	addr := testkit.FreeAddr(t)
	cfg, err := config.FromEnv(env(map[string]string{"ERPSIM_ADDR": addr, "KINGDEE_ACCT_ID": kdAcct, "KINGDEE_USERNAME": kdUser,
		"KINGDEE_APP_ID": kdAppID, "KINGDEE_APP_SECRET": kdSecret}))
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, "erpsim", []string{"--kind", "kingdee"}, cfg, newLogger(&logs, "info"), io.Discard, io.Discard)
	}()
	base := "http://" + addr
	testenv.Eventually(t, "the Kingdee simulator answers", 10*time.Second, func() error {
		resp, err := http.Get(base + "/kdsim/stats")
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	})
	s, err := NewSink(kingdeeConfig(base+"/K3Cloud/"), nil)
	if err != nil {
		t.Fatal(err)
	}
	r := carOrder(t, "14.16")
	if res, err := s.Send(t.Context(), r); err != nil || !res.Created {
		t.Fatalf("send through erpsim --kind kingdee: %+v, %v", res, err)
	}
	resp, err := http.Get(base + "/kdsim/bills")
	if err != nil {
		t.Fatal(err)
	}
	var bills []kdsim.Bill
	_ = json.NewDecoder(resp.Body).Decode(&bills)
	resp.Body.Close()
	if len(bills) != 1 || bills[0].Number != erp.DocumentNumber(r) {
		t.Fatalf("bills %+v", bills)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("erpsim stopped with %v", err)
	}
	if !strings.Contains(logs.String(), base+"/K3Cloud/") || strings.Contains(logs.String(), kdSecret) {
		t.Errorf("erpsim's log: %s", logs.String())
	}
}

// The command list names the mapping command and erpsim's kinds.
func TestUsageNamesTheERPCommands(t *testing.T) {
	code, out := runMain(t, nil, "help")
	if code != 0 || !strings.Contains(out, "mapping ") || !strings.Contains(out, "--kind kingdee") {
		t.Fatalf("usage: exit %d\n%s", code, out)
	}
	if code, out := runMain(t, nil, "mapping", "--help"); code != 0 || !strings.Contains(out, "erpbridge mapping render") {
		t.Fatalf("mapping --help: exit %d\n%s", code, out)
	}
}

// `erpbridge dev` honours ERP_KIND: it checks the connector's settings
// before it starts anything, and its banner names the ERP instead of the
// HTTP simulator it then does not start.
func TestDevHonoursERPKind(t *testing.T) {
	dir := t.TempDir()
	began := time.Now()
	code, out := runMain(t, map[string]string{"DATA_DIR": dir, "ERP_KIND": "tryton", "TRYTON_URL": "http://127.0.0.1:8000/"}, "dev")
	if code != 1 || !strings.Contains(out, "TRYTON_DATABASE: must be set") || strings.Contains(out, "starting the Temporal dev server") {
		t.Fatalf("dev without the Tryton settings: exit %d, %q", code, out)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("the refusal took %s: it prepared the stack first", took)
	}

	cfg := config.DevDefault()
	cfg.ERP.Kind = erp.KindTryton
	cfg.Tryton.URL, cfg.Tryton.Database, cfg.Tryton.Password = "http://127.0.0.1:8123/", "erpbridge", "hunter2"
	var banner bytes.Buffer
	printDevBanner(&banner, cfg, "http://localhost:8233", "http://127.0.0.1:8234")
	if s := banner.String(); !strings.Contains(s, "ERP                 Tryton at http://127.0.0.1:8123/ (database erpbridge, the default mapping)") ||
		strings.Contains(s, "ERP simulator") || strings.Contains(s, "hunter2") || !strings.Contains(s, "reference AX3-RO-6482 in Tryton") {
		t.Errorf("banner for Tryton:\n%s", s)
	}
	banner.Reset()
	printDevBanner(&banner, config.DevDefault(), "http://localhost:8233", "http://127.0.0.1:8234")
	if s := banner.String(); !strings.Contains(s, "ERP simulator       http://localhost:8090") || !strings.Contains(s, "see the record at http://localhost:8090/records") {
		t.Errorf("banner for the HTTP contract:\n%s", s)
	}
}
