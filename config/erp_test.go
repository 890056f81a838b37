package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/config"
)

// ERP_KIND chooses the sink; a connector's send bound follows its call
// bound unless ERP_TIMEOUT is given, and the attempt and the worker's stop
// bound follow the send bound.
func TestERPKindAndItsTimeouts(t *testing.T) {
	tests := []struct {
		name                  string
		vars                  map[string]string
		kind                  string
		send, attempt, stop   time.Duration
		kingdeeCall, trytCall time.Duration
	}{
		{"http by default", nil, "http", 30 * time.Second, 45 * time.Second, 35 * time.Second, 30 * time.Second, 30 * time.Second},
		{"kingdee: four calls", map[string]string{"ERP_KIND": "Kingdee"}, "kingdee", 2 * time.Minute, 135 * time.Second, 125 * time.Second, 30 * time.Second, 30 * time.Second},
		{"kingdee: follows KINGDEE_TIMEOUT", map[string]string{"ERP_KIND": "kingdee", "KINGDEE_TIMEOUT": "10s"}, "kingdee", 40 * time.Second, 55 * time.Second, 45 * time.Second, 10 * time.Second, 30 * time.Second},
		{"tryton: follows TRYTON_TIMEOUT", map[string]string{"ERP_KIND": "tryton", "TRYTON_TIMEOUT": "15s"}, "tryton", time.Minute, 75 * time.Second, 65 * time.Second, 30 * time.Second, 15 * time.Second},
		{"ERP_TIMEOUT given wins", map[string]string{"ERP_KIND": "tryton", "ERP_TIMEOUT": "90s"}, "tryton", 90 * time.Second, 105 * time.Second, 95 * time.Second, 30 * time.Second, 30 * time.Second},
		{"the http sink ignores the connectors' timeouts", map[string]string{"KINGDEE_TIMEOUT": "1m", "TRYTON_TIMEOUT": "1m"}, "http", 30 * time.Second, 45 * time.Second, 35 * time.Second, time.Minute, time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fromEnv(t, tt.vars)
			if c.ERP.Kind != tt.kind || c.ERP.Timeout != tt.send || c.ERP.AttemptTimeout != tt.attempt || c.Temporal.WorkerStopTimeout != tt.stop ||
				c.Kingdee.Timeout != tt.kingdeeCall || c.Tryton.Timeout != tt.trytCall {
				t.Errorf("kind %q, send %s, attempt %s, stop %s, calls %s/%s; want %q, %s, %s, %s, %s/%s", c.ERP.Kind, c.ERP.Timeout,
					c.ERP.AttemptTimeout, c.Temporal.WorkerStopTimeout, c.Kingdee.Timeout, c.Tryton.Timeout,
					tt.kind, tt.send, tt.attempt, tt.stop, tt.kingdeeCall, tt.trytCall)
			}
		})
	}
}

// What does not fit the sink chosen is refused by every command, naming
// the variables; a connector's own settings are not (see Require).
func TestERPKindRefusals(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
		want string
	}{
		{"unknown kind", map[string]string{"ERP_KIND": "sap"}, `ERP_KIND="sap" must be http, kingdee or tryton`},
		{"a mapping for the HTTP contract", map[string]string{"ERP_MAPPING": "/etc/erpbridge/mapping.yaml"},
			`ERP_MAPPING="/etc/erpbridge/mapping.yaml" is set but ERP_KIND=http posts the normalised record`},
		{"a send shorter than two calls", map[string]string{"ERP_KIND": "kingdee", "ERP_TIMEOUT": "45s"},
			"ERP_TIMEOUT (45s) bounds a whole send to kingdee and must leave room for at least 2 calls of KINGDEE_TIMEOUT (30s each)"},
		{"a send shorter than two Tryton calls", map[string]string{"ERP_KIND": "tryton", "ERP_TIMEOUT": "1m", "TRYTON_TIMEOUT": "31s"},
			"at least 2 calls of TRYTON_TIMEOUT (31s each)"},
		{"no sessions", map[string]string{"KINGDEE_MAX_SESSIONS": "0"}, `KINGDEE_MAX_SESSIONS="0" is not a positive integer`},
		{"bad call timeout", map[string]string{"TRYTON_TIMEOUT": "soon"}, `TRYTON_TIMEOUT="soon" is not a positive duration`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.FromEnv(env(tt.vars))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
	// A connector needs no ERP_URL: it is not checked, and the
	// connector's settings wait for the commands that send.
	for _, kind := range []string{"kingdee", "tryton"} {
		c, err := config.FromEnv(env(map[string]string{"ERP_KIND": kind, "ERP_URL": "erp.example.com", "ERP_MAPPING": "/m.yaml"}))
		if err != nil || c.ERP.Mapping != "/m.yaml" {
			t.Errorf("ERP_KIND=%s without its settings: %v (mapping %q)", kind, err, c.ERP.Mapping)
		}
	}
}

// The connectors' secrets come from files too, and never show in an error.
func TestConnectorSecretsFromFiles(t *testing.T) {
	c := fromEnv(t, map[string]string{
		"KINGDEE_APP_SECRET_FILE": secretFile(t, "kd-secret\n"),
		"KINGDEE_PASSWORD_FILE":   secretFile(t, "kd-password\n"),
		"TRYTON_PASSWORD_FILE":    secretFile(t, "tryton-password\r\n"),
	})
	if c.Kingdee.AppSecret != "kd-secret" || c.Kingdee.Password != "kd-password" || c.Tryton.Password != "tryton-password" {
		t.Errorf("secrets from files: %q %q %q", c.Kingdee.AppSecret, c.Kingdee.Password, c.Tryton.Password)
	}
	_, err := config.FromEnv(env(map[string]string{"TRYTON_PASSWORD": "hunter2", "TRYTON_PASSWORD_FILE": secretFile(t, "hunter3")}))
	if err == nil || !strings.Contains(err.Error(), "both TRYTON_PASSWORD and TRYTON_PASSWORD_FILE are set") || strings.Contains(err.Error(), "hunter") {
		t.Errorf("both set: %v", err)
	}
}

// A command that sends to the ERP checks the connector's settings with the
// connector's own Validate: every problem, each naming its variable and no
// secret. The simulator refusal of the production profile is the http
// sink's alone: a connector on this machine (a Tryton beside the worker) is
// allowed.
func TestRequireConnectorSettings(t *testing.T) {
	const secret = "s3cr3t-value"
	kingdee := map[string]string{"ERP_KIND": "kingdee", "KINGDEE_URL": "http://127.0.0.1:8090/K3Cloud/", "KINGDEE_ACCT_ID": "acct",
		"KINGDEE_USERNAME": "erpbridge", "KINGDEE_APP_ID": "app", "KINGDEE_APP_SECRET": secret}
	tryton := map[string]string{"ERP_KIND": "tryton", "TRYTON_URL": "http://localhost:8000/", "TRYTON_DATABASE": "erpbridge",
		"TRYTON_USER": "erpbridge", "TRYTON_PASSWORD": secret}
	with := func(base map[string]string, k, v string) map[string]string {
		m := map[string]string{}
		for key, val := range base {
			m[key] = val
		}
		m[k] = v
		return m
	}
	tests := []struct {
		name  string
		vars  map[string]string
		needs config.Needs
		want  []string
	}{
		{"kingdee complete", kingdee, config.Needs{ERP: true}, nil},
		{"tryton complete", tryton, config.Needs{ERP: true}, nil},
		{"kingdee without anything", map[string]string{"ERP_KIND": "kingdee"}, config.Needs{ERP: true},
			[]string{"KINGDEE_URL: must be set", "KINGDEE_ACCT_ID: must be set", "KINGDEE_USERNAME: must be set", "KINGDEE_PASSWORD: must be set unless"}},
		{"kingdee with both logins", with(kingdee, "KINGDEE_PASSWORD", secret), config.Needs{ERP: true}, []string{"KINGDEE_PASSWORD: set either"}},
		{"kingdee with a password in the URL", with(kingdee, "KINGDEE_URL", "https://u:"+secret+"@kd.example.com/K3Cloud/"), config.Needs{ERP: true},
			[]string{"KINGDEE_URL: must not carry a user or password"}},
		{"too many sessions", with(kingdee, "KINGDEE_MAX_SESSIONS", "100"), config.Needs{ERP: true}, []string{"KINGDEE_MAX_SESSIONS: must be between 1 and 64"}},
		{"tryton without a password", with(tryton, "TRYTON_PASSWORD", ""), config.Needs{ERP: true}, []string{"TRYTON_PASSWORD: must be set"}},
		{"tryton without a URL", map[string]string{"ERP_KIND": "tryton"}, config.Needs{ERP: true}, []string{"TRYTON_URL: must be set"}},
		{"not needed", map[string]string{"ERP_KIND": "kingdee"}, config.Needs{Store: false}, nil},
		{"the http sink still refuses the simulator", map[string]string{"ERP_URL": "http://127.0.0.1:8090"}, config.Needs{ERP: true},
			[]string{"is the ERP simulator or this machine"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fromEnv(t, tt.vars)
			err := c.Require(tt.needs)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Require: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Require passed, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q quotes a secret or spans lines", err)
			}
		})
	}
}
