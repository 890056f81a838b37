package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/erpbridge/erpbridge/config"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/erpsim"
	"github.com/erpbridge/erpbridge/erp/kingdee"
	"github.com/erpbridge/erpbridge/erp/kingdee/kdsim"
	"github.com/erpbridge/erpbridge/erp/mapping"
	"github.com/erpbridge/erpbridge/erp/tryton"
	"github.com/erpbridge/erpbridge/internal/reason"
)

// NewSink builds the sink ERP_KIND chooses, which the sync activity sends
// every record to: the HTTP contract's client (ERP_URL), or the Kingdee or
// Tryton connector with its mapping (ERP_MAPPING, or the default embedded
// in erpbridge) compiled. It makes no call to the ERP. A connector's
// settings that do not validate are an error naming each variable; a
// mapping that does not compile one naming the file, the kind and the
// expression. A connector's every send is bounded by ERP_TIMEOUT (its
// calls each by KINGDEE_TIMEOUT or TRYTON_TIMEOUT), so the sync attempt,
// ERP_TIMEOUT + 15s, always has room to record the outcome. log receives
// the Kingdee connector's session events (logins, lost sessions), which
// hold no secret.
//
// wrap, when given, wraps the transport of every HTTP call to the ERP (the
// tracing's Transport).
func NewSink(cfg config.Config, log *slog.Logger, wrap ...func(http.RoundTripper) http.RoundTripper) (erp.Sink, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	transport := func(rt http.RoundTripper) http.RoundTripper {
		for _, w := range wrap {
			rt = w(rt)
		}
		return rt
	}
	if cfg.ERP.Kind == erp.KindHTTP {
		return erp.NewClient(cfg.ERP.URL, cfg.ERP.Token, cfg.ERP.Timeout, erp.WithTransport(transport(http.DefaultTransport))), nil
	}
	if !erp.IsConnector(cfg.ERP.Kind) {
		return nil, fmt.Errorf("ERP_KIND=%q must be %s, %s or %s", cfg.ERP.Kind, erp.KindHTTP, erp.KindKingdee, erp.KindTryton)
	}
	if problems := cfg.ConnectorProblems(); len(problems) > 0 {
		return nil, fmt.Errorf("configuration: %s", strings.Join(problems, "; "))
	}
	m, err := mapping.Load(cfg.ERP.Kind, cfg.ERP.Mapping)
	if err != nil {
		return nil, fmt.Errorf("ERP_KIND=%s: %w", cfg.ERP.Kind, err)
	}
	var s erp.Sink
	switch cfg.ERP.Kind {
	case erp.KindKingdee:
		s, err = kingdee.New(cfg.Kingdee, m, kingdee.WithLogger(log), kingdee.WithTransportWrap(transport))
	case erp.KindTryton:
		s, err = tryton.New(cfg.Tryton, m, tryton.WithTransport(transport(http.DefaultTransport)))
	}
	if err != nil {
		return nil, err
	}
	return boundedSink{sink: s, timeout: cfg.ERP.Timeout}, nil
}

// boundedSink bounds every send of a connector, all its calls together, by
// ERP_TIMEOUT. A send cut off is a retryable failure like a timeout of one
// call, and the next send finds the record's document by its number.
type boundedSink struct {
	sink    erp.Sink
	timeout time.Duration
}

// Send sends r within the bound.
func (b boundedSink) Send(ctx context.Context, r erp.Record) (erp.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	return b.sink.Send(ctx, r)
}

// describeERP names the sink ERP_KIND chooses and where it sends, for logs
// and the dev banner: no secret, and no password in a URL.
func describeERP(cfg config.Config) string {
	mappingFile := cfg.ERP.Mapping
	if mappingFile == "" {
		mappingFile = "the default mapping"
	}
	switch cfg.ERP.Kind {
	case erp.KindKingdee:
		return fmt.Sprintf("Kingdee K3Cloud at %s (data centre %s, %s)", reason.RedactURL(cfg.Kingdee.URL), cfg.Kingdee.AcctID, mappingFile)
	case erp.KindTryton:
		return fmt.Sprintf("Tryton at %s (database %s, %s)", reason.RedactURL(cfg.Tryton.URL), cfg.Tryton.Database, mappingFile)
	}
	return "the HTTP contract at " + reason.RedactURL(cfg.ERP.URL)
}

// serveERPSim serves the simulator of an ERP: `--kind http` (the default)
// the HTTP contract's, `--kind kingdee` K3Cloud's WebAPI (kdsim), both on
// ERPSIM_ADDR, until ctx ends.
func serveERPSim(ctx context.Context, args []string, cfg config.Config, log *slog.Logger, stderr io.Writer) error {
	fs := flag.NewFlagSet("erpbridge erpsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	kind := fs.String("kind", erp.KindHTTP, "the ERP to simulate: http (the HTTP contract) or kingdee (Kingdee K3Cloud's WebAPI)")
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: erpbridge erpsim [--kind http|kingdee]

Serves an ERP simulator on ERPSIM_ADDR, for development and tests; never
expose it. --kind http (the default) serves the HTTP contract and keeps what
it accepts in ERPSIM_DATA; it requires ERP_TOKEN as the bearer token.
--kind kingdee serves Kingdee K3Cloud's WebAPI under /K3Cloud/ with bills in
memory; its logins accept the credentials of the KINGDEE_* settings
(KINGDEE_ACCT_ID, KINGDEE_USERNAME, and KINGDEE_APP_ID with
KINGDEE_APP_SECRET and/or KINGDEE_PASSWORD).

flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	switch strings.ToLower(*kind) {
	case erp.KindHTTP:
		sim, err := erpsim.New(cfg.Dev.ERPSimData, cfg.ERP.Token)
		if err != nil {
			return err
		}
		defer sim.Close()
		srv := &http.Server{Addr: cfg.Dev.ERPSimAddr, Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
		log.Info("ERP simulator listening", "kind", erp.KindHTTP, "addr", cfg.Dev.ERPSimAddr, "data", cfg.Dev.ERPSimData)
		return serveUntil(ctx, srv, cfg.HTTP.ShutdownTimeout)
	case erp.KindKingdee:
		opts, err := kingdeeSimOptions(cfg.Kingdee)
		if err != nil {
			return err
		}
		srv := &http.Server{Addr: cfg.Dev.ERPSimAddr, Handler: kdsim.New(opts).Handler(), ReadHeaderTimeout: 10 * time.Second}
		log.Info("ERP simulator listening", "kind", erp.KindKingdee, "addr", cfg.Dev.ERPSimAddr,
			"kingdee_url", "http://"+config.Dialable(cfg.Dev.ERPSimAddr)+"/K3Cloud/", "acct_id", cfg.Kingdee.AcctID,
			"app_secret_login", opts.AppSecret != "", "password_login", opts.Password != "")
		return serveUntil(ctx, srv, cfg.HTTP.ShutdownTimeout)
	}
	return fmt.Errorf("--kind %q: the simulators are http and kingdee", *kind)
}

// kingdeeSimOptions are kdsim's credentials from the Kingdee settings: the
// data centre, the user, and at least one way to log in.
func kingdeeSimOptions(k config.Kingdee) (kdsim.Options, error) {
	var missing []string
	if k.AcctID == "" {
		missing = append(missing, "KINGDEE_ACCT_ID")
	}
	if k.Username == "" {
		missing = append(missing, "KINGDEE_USERNAME")
	}
	appLogin := k.AppID != "" && k.AppSecret != ""
	if !appLogin && k.Password == "" {
		missing = append(missing, "KINGDEE_APP_ID with KINGDEE_APP_SECRET, or KINGDEE_PASSWORD")
	}
	if len(missing) > 0 {
		return kdsim.Options{}, fmt.Errorf("the Kingdee simulator takes its logins' credentials from the Kingdee settings: set %s", strings.Join(missing, "; "))
	}
	opts := kdsim.Options{AcctID: k.AcctID, Username: k.Username, Password: k.Password}
	if appLogin {
		opts.AppID, opts.AppSecret = k.AppID, k.AppSecret
	}
	return opts, nil
}
