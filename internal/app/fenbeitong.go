package app

import (
	"net/http"

	"github.com/erpbridge/erpbridge/config"
	"github.com/erpbridge/erpbridge/vendors/fenbeitong/openapi"
)

// fenbeitongAPI is the client of Fenbeitong's open API the reconciliation
// uses, or nil when FENBEITONG_API_URL is not set. Its settings are checked
// here, at start, each refusal naming its variable. Its calls go through rt
// (the tracing's transport: each call a span of the reconciliation's trace).
func fenbeitongAPI(cfg config.Config, rt http.RoundTripper) (*openapi.Client, error) {
	if cfg.Reconcile.URL == "" {
		return nil, nil
	}
	return openapi.New(cfg.Reconcile.API(), openapi.WithTransport(rt))
}
