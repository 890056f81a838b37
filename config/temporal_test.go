package config_test

import (
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/config"
)

// A client certificate needs its key, and a key its certificate (the
// Temporal Cloud settings themselves are in TestEverySetting).
func TestTemporalTLSCertAndKeyGoTogether(t *testing.T) {
	for _, only := range []string{"TEMPORAL_TLS_CERT", "TEMPORAL_TLS_KEY"} {
		_, err := config.FromEnv(env(map[string]string{only: "/etc/erpbridge/x.pem"}))
		if err == nil || !strings.Contains(err.Error(), "TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together") {
			t.Errorf("%s alone: %v", only, err)
		}
	}
}
