package app

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/erpbridge/erpbridge/codec"
	"github.com/erpbridge/erpbridge/config"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/erpsim"
	"github.com/erpbridge/erpbridge/flow"
	"github.com/erpbridge/erpbridge/metrics"
	"github.com/erpbridge/erpbridge/temporalclient"
	"github.com/erpbridge/erpbridge/tools/devstack"
	"github.com/erpbridge/erpbridge/vendors/autox3"
	"github.com/erpbridge/erpbridge/vendors/fenbeitong"
	"github.com/erpbridge/erpbridge/vendors/lenient"
)

// devSecretsFile keeps the dev command's generated secrets, so a second run
// resumes with the same ones.
const devSecretsFile = "dev-secrets.env"

// runDev runs the whole stack on this machine, keeping every piece of state
// under cfg.Dev.DataDir (.data): the Temporal dev server's database, the SQLite
// store (unless MYSQL_DSN is set), the ERP simulator's records, the payload
// key and the generated secrets. Ctrl-C stops everything; running it again
// resumes with the same data.
func runDev(ctx context.Context, cfg config.Config, stdout, stderr io.Writer) error {
	dataDir := cfg.Dev.DataDir
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dataDir, err)
	}
	secrets, err := loadDevSecrets(filepath.Join(dataDir, devSecretsFile))
	if err != nil {
		return err
	}
	orSecret := func(v *string, key string) {
		if *v == "" {
			*v = secrets[key]
		}
	}
	orSecret(&cfg.Vendors.AutoX3AppSecret, "AUTOX3_APP_SECRET")
	orSecret(&cfg.Vendors.FenbeitongToken, "FENBEITONG_TOKEN")
	orSecret(&cfg.ERP.Token, "ERP_TOKEN")
	if cfg.Codec.PayloadKey == "" {
		if cfg.Codec.PayloadKey, err = codec.LoadOrCreateKeyFile(filepath.Join(dataDir, "payload.key")); err != nil {
			return err
		}
	}
	if len(cfg.Codec.CORSOrigins) == 0 {
		// The Web UI calls the codec server from the browser: allow its origin.
		cfg.Codec.CORSOrigins = devUIOrigins(cfg.Temporal.Address, cfg.Dev.TemporalUIPort)
	}
	log := newLogger(stderr, cfg.Log.Level)
	say := func(format string, args ...any) { fmt.Fprintf(stdout, format+"\n", args...) }

	// The ERP ERP_KIND chooses, its settings and mapping checked before
	// anything starts: the HTTP simulator started below, or a Kingdee or
	// Tryton of the developer's (erpbridge erpsim --kind kingdee, make dev-tryton).
	tr, stopTracing, err := startTracing(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer stopTracing()
	sink, err := NewSink(cfg, log, tr.Transport)
	if err != nil {
		return err
	}

	// The pinned Temporal CLI: found, or built once from the Go module proxy.
	say("erpbridge dev: preparing (state in %s/)", dataDir)
	cli, err := devstack.FindOrInstallTemporalCLI(ctx, absData("bin", ""), stdout)
	if err != nil {
		return err
	}

	db, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeDB(db)

	// Codec server first: the Web UI is pointed at it to show decoded payloads
	// and the stored callbacks their claim checks name.
	keyring, err := codec.ParseKeyring(cfg.Codec.PayloadKey, cfg.Codec.PayloadOldKeys)
	if err != nil {
		return err
	}
	codecURL := localURL(cfg.Codec.Addr)
	codecHTTP, err := startHTTP(codecServer(cfg, keyring, db, log))
	if err != nil {
		return fmt.Errorf("codec server: %w", err)
	}
	defer codecHTTP.stop(5 * time.Second)

	say("starting the Temporal dev server on %s (Web UI on :%d)...", cfg.Temporal.Address, cfg.Dev.TemporalUIPort)
	ds, err := devstack.StartDevServer(ctx, devstack.DevServerOptions{
		CLIPath: cli, DBFile: absData(dataDir, "temporal.db"), Address: cfg.Temporal.Address, UIPort: cfg.Dev.TemporalUIPort,
		Namespace: cfg.Temporal.Namespace, CodecEndpoint: codecURL, SearchAttributes: flow.SearchAttributeNames,
		LogFile: absData(dataDir, "temporal.log"),
	})
	if err != nil {
		return err
	}
	defer ds.Stop()

	// Without FENBEITONG_API_URL, a simulated open API for the reconciliation.
	var fbtBooked []byte
	if cfg.Reconcile.URL == "" {
		booked, stop, err := devFenbeitong(&cfg, secrets)
		if err != nil {
			return err
		}
		defer stop()
		fbtBooked = booked
	}

	if cfg.ERP.Kind == erp.KindHTTP {
		sim, err := erpsim.New(cfg.Dev.ERPSimData, cfg.ERP.Token)
		if err != nil {
			return err
		}
		defer sim.Close()
		simHTTP, err := startHTTP(&http.Server{Addr: cfg.Dev.ERPSimAddr, Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second})
		if err != nil {
			return fmt.Errorf("ERP simulator: %w", err)
		}
		defer simHTTP.stop(5 * time.Second)
	}

	m := metrics.New()
	c, err := temporalclient.Dial(ctx, cfg, temporalclient.DialOptions{DataConverter: codec.DataConverter(keyring), Registerer: m.Registry, Logger: log, Tracing: tr})
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := temporalclient.EnsureSearchAttributes(ctx, c, cfg.Temporal.Namespace, flow.SearchAttributeNames); err != nil {
		return err
	}

	printDevBanner(stdout, cfg, ds.UIURL(), codecURL)
	printDevReconcile(stdout, cfg, cli, fbtBooked)
	b, err := NewBridge(BridgeDeps{Config: cfg, Logger: log, DB: db, Temporal: c, Metrics: m, ERP: sink, Tracing: tr})
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-ds.Done():
			log.Error("the Temporal dev server stopped; shutting down", "error", ds.Err())
			cancel()
		case <-runCtx.Done():
		}
	}()
	err = b.Run(runCtx, true, true)
	say("erpbridge dev: stopping...")
	if ctx.Err() == nil && err == nil {
		err = errors.New("the Temporal dev server stopped unexpectedly; see " + filepath.Join(dataDir, "temporal.log"))
	}
	return err
}

// devUIOrigins are the origins a browser gives the dev server's Web UI on
// uiPort: localhost, 127.0.0.1 and the host of temporalAddress when it names one.
func devUIOrigins(temporalAddress string, uiPort int) []string {
	hosts := []string{"localhost", "127.0.0.1"}
	if h, _, err := net.SplitHostPort(temporalAddress); err == nil && h != "" && h != "0.0.0.0" && h != "::" && h != "localhost" && h != "127.0.0.1" {
		hosts = append(hosts, h)
	}
	origins := make([]string, len(hosts))
	for i, h := range hosts {
		origins[i] = "http://" + net.JoinHostPort(h, strconv.Itoa(uiPort))
	}
	return origins
}

// first is the newest of a secret list, or "" when there is none.
func first(list []string) string {
	if len(list) == 0 {
		return ""
	}
	return list[0]
}

// printDevBanner tells a newcomer where everything is and how to send a first callback.
func printDevBanner(w io.Writer, cfg config.Config, uiURL, codecURL string) {
	api := localURL(cfg.HTTP.Addr)
	now := time.Now()
	sample := autox3.SampleReceptionBody(uuid.NewString(), 6482, now.UnixMilli(), first(cfg.Vendors.AutoX3AppSecrets()))
	push := fenbeitong.SampleBody("5eaab72f23445f46685f8cc8", 700, now.In(lenient.China).Format("2006-01-02 15:04:05"))
	simURL := localURL(cfg.Dev.ERPSimAddr)
	erpLine := fmt.Sprintf("ERP simulator       %[1]s   (records at %[1]s/records, faults at %[1]s/faults)", simURL)
	seeIt := fmt.Sprintf("see the record at %s/records", simURL)
	switch cfg.ERP.Kind {
	case erp.KindKingdee:
		erpLine = "ERP                 " + describeERP(cfg)
		seeIt = "find bill AX3-RO-6482 (FBillNo) in Kingdee"
	case erp.KindTryton:
		erpLine = "ERP                 " + describeERP(cfg)
		seeIt = "find the draft sale with reference AX3-RO-6482 in Tryton"
	}
	fmt.Fprintf(w, `
erpbridge dev is running. Ctrl-C stops everything; run it again to resume.

  AutoX3 webhook      %[1]s/webhooks/autox3
  Fenbeitong webhook  %[1]s/webhooks/fenbeitong?token=%[2]s
  Temporal Web UI     %[3]s   (payloads decoded through the codec server %[4]s)
  %[5]s
  Health, metrics     %[1]s/readyz  %[1]s/metrics
  Store               %[6]s

Send a correctly signed AutoX3 callback (reception order 6482):

  curl -sS -X POST %[1]s/webhooks/autox3 -H 'Content-Type: application/json' --data-binary %[7]s

Send a Fenbeitong car-order push:

  curl -sS -X POST '%[1]s/webhooks/fenbeitong?token=%[2]s' -H 'Content-Type: application/json' --data-binary %[8]s

Then search OrderID="6482" in the Web UI, and %[9]s.

`, api, first(cfg.Vendors.FenbeitongTokens()), uiURL, codecURL, erpLine, cfg.StoreName(), shellQuote(string(sample)), shellQuote(compact(push)), seeIt)
}

// printDevReconcile tells how to see the Fenbeitong reconciliation at
// work: push the simulated order as booked, then run the schedule now. With
// FENBEITONG_API_URL set (booked is nil) it names the schedule only.
func printDevReconcile(w io.Writer, cfg config.Config, cli string, booked []byte) {
	trigger := fmt.Sprintf("%s schedule trigger --schedule-id %s --address %s --namespace %s",
		shellQuote(cli), flow.ReconcileScheduleID, cfg.Temporal.Address, cfg.Temporal.Namespace)
	if booked == nil {
		if cfg.Reconcile.URL != "" {
			fmt.Fprintf(w, "Fenbeitong reconciliation runs every %s against %s; run it now with:\n\n  %s\n\n", shortDuration(cfg.Reconcile.Every), cfg.Reconcile.URL, trigger)
		}
		return
	}
	fmt.Fprintf(w, `Fenbeitong reconciliation: the open API simulator on %[1]s holds car order
%[2]s completed, a completion never pushed. Push it as booked, then run the
reconciliation now (it also runs every %[3]s); the completed order reaches the ERP:

  curl -sS -X POST '%[4]s/webhooks/fenbeitong?token=%[5]s' -H 'Content-Type: application/json' --data-binary %[6]s
  %[7]s

`, localURL(cfg.Dev.FenbeitongSimAddr), devFenbeitongOrderID, shortDuration(cfg.Reconcile.Every), localURL(cfg.HTTP.Addr),
		first(cfg.Vendors.FenbeitongTokens()), shellQuote(compact(booked)), trigger)
}

// shortDuration writes d without its zero tail: 1h, 1h30m, 90s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// compact removes the insignificant white space of a JSON sample so it pastes as one argument.
func compact(b []byte) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return string(b)
	}
	return buf.String()
}

// devSecretKeys are the secrets `erpbridge dev` generates.
var devSecretKeys = []string{"AUTOX3_APP_SECRET", "FENBEITONG_TOKEN", "ERP_TOKEN", "FENBEITONG_APP_KEY", "FENBEITONG_SIGN_KEY"}

// loadDevSecrets reads KEY=value lines, generating the dev secrets on first use.
func loadDevSecrets(path string) (map[string]string, error) {
	out := map[string]string{}
	f, err := os.Open(path)
	switch {
	case err == nil:
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "="); ok && !strings.HasPrefix(k, "#") {
				out[k] = v
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	changed := false
	for _, k := range devSecretKeys {
		if out[k] == "" {
			b := make([]byte, 16)
			if _, err := rand.Read(b); err != nil {
				return nil, err
			}
			out[k] = hex.EncodeToString(b)
			changed = true
		}
	}
	if changed {
		var sb strings.Builder
		sb.WriteString("# secrets generated by erpbridge dev for local use only\n")
		for _, k := range devSecretKeys {
			sb.WriteString(k + "=" + out[k] + "\n")
		}
		if err := os.WriteFile(path, []byte(sb.String()), 0o600); err != nil {
			return nil, fmt.Errorf("write %s: %w", path, err)
		}
	}
	return out, nil
}
