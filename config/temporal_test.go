package config_test

import (
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/config"
)

// The Temporal Cloud settings are read as the Temporal samples name them.
func TestTemporalCloudSettings(t *testing.T) {
	got := fromEnv(t, map[string]string{
		"TEMPORAL_TLS_CERT":        "/etc/erpbridge/client.pem",
		"TEMPORAL_TLS_KEY":         "/etc/erpbridge/client.key",
		"TEMPORAL_TLS_CA":          "/etc/erpbridge/ca.pem",
		"TEMPORAL_TLS_SERVER_NAME": " ns.acct.tmprl.cloud ",
		"TEMPORAL_API_KEY":         "api-key",
	})
	if got.Temporal.TLSCert != "/etc/erpbridge/client.pem" || got.Temporal.TLSKey != "/etc/erpbridge/client.key" ||
		got.Temporal.TLSCA != "/etc/erpbridge/ca.pem" || got.Temporal.TLSServerName != "ns.acct.tmprl.cloud" || got.Temporal.APIKey != "api-key" {
		t.Errorf("FromEnv = %+v", got)
	}
	for _, only := range []string{"TEMPORAL_TLS_CERT", "TEMPORAL_TLS_KEY"} {
		_, err := config.FromEnv(env(map[string]string{only: "/etc/erpbridge/x.pem"}))
		if err == nil || !strings.Contains(err.Error(), "TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together") {
			t.Errorf("%s alone: %v", only, err)
		}
	}
}
