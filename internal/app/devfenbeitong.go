package app

import (
	"fmt"
	"net/http"
	"time"

	"github.com/erpbridge/erpbridge/config"
	"github.com/erpbridge/erpbridge/vendors/fenbeitong/fbtsim"
	"github.com/erpbridge/erpbridge/vendors/lenient"
)

// Credentials of the simulated open API `erpbridge dev` serves: the app id
// and employee are fixed, the keys generated into dev-secrets.env.
const (
	devFenbeitongAppID    = "erpbridge-dev"
	devFenbeitongEmployee = "dev-employee"
	// devFenbeitongOrderID is the car order the simulator holds: pushed as
	// booked (the banner's curl), completed with its fare in the API.
	devFenbeitongOrderID = "64f1c0de5eaab72f23445f01"
)

// devFenbeitong serves a simulated Fenbeitong open API on
// cfg.Dev.FenbeitongSimAddr holding one car order completed in the API
// whose completion was never pushed, and points the reconciliation at it.
// It is used when FENBEITONG_API_URL is not set. The order's times are
// today's, so every run of `erpbridge dev` answers the same order.
func devFenbeitong(cfg *config.Config, secrets map[string]string) (booked []byte, stop func(), err error) {
	now := time.Now().In(lenient.China)
	created := time.Date(now.Year(), now.Month(), now.Day(), 0, 30, 0, 0, lenient.China)
	if now.Before(created) {
		created = created.AddDate(0, 0, -1)
	}
	completed := created.Add(40 * time.Minute)
	sim := fbtsim.New(fbtsim.Options{
		AppID: devFenbeitongAppID, AppKey: secrets["FENBEITONG_APP_KEY"], SignKey: secrets["FENBEITONG_SIGN_KEY"],
		TokenPath: cfg.Reconcile.TokenPath, ListSummary: true,
		Now: func() time.Time { return completed },
	})
	booked = fbtsim.BookedOrder(devFenbeitongOrderID, created)
	if err := sim.AddOrder(booked); err != nil {
		return nil, nil, err
	}
	if err := sim.SetStatus(devFenbeitongOrderID, fbtsim.StatusCompleted, fbtsim.SampleFare()); err != nil {
		return nil, nil, err
	}
	srv, err := startHTTP(&http.Server{Addr: cfg.Dev.FenbeitongSimAddr, Handler: sim, ReadHeaderTimeout: 10 * time.Second})
	if err != nil {
		return nil, nil, fmt.Errorf("Fenbeitong open API simulator (FENBEITONG_SIM_ADDR=%s): %w", cfg.Dev.FenbeitongSimAddr, err)
	}
	r := &cfg.Reconcile
	r.URL = localURL(cfg.Dev.FenbeitongSimAddr)
	r.AppID, r.AppKey, r.SignKey, r.EmployeeID = devFenbeitongAppID, secrets["FENBEITONG_APP_KEY"], secrets["FENBEITONG_SIGN_KEY"], devFenbeitongEmployee
	return booked, func() { srv.stop(5 * time.Second) }, nil
}
