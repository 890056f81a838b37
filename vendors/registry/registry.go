// Package registry lists the vendors erpbridge takes callbacks from. A new
// vendor is one package under vendors/ and one line here.
package registry

import (
	"github.com/erpbridge/erpbridge/config"
	"github.com/erpbridge/erpbridge/vendors"
	"github.com/erpbridge/erpbridge/vendors/autox3"
	"github.com/erpbridge/erpbridge/vendors/fenbeitong"
)

// New builds the registry of every vendor, configured from cfg.
func New(cfg config.Config) (*vendors.Registry, error) {
	return vendors.NewRegistry(
		autox3.New(cfg.Vendors.AutoX3AppSecrets()...),
		fenbeitong.New(cfg.Vendors.FenbeitongTokens(), cfg.Vendors.FenbeitongAllowedIPs),
	)
}
