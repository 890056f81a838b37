package kingdee

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/internal/testkit"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	base := Config{URL: "https://erp.example.com/K3Cloud/", AcctID: "dc", Username: "u", AppID: "app", AppSecret: appSecret}
	if err := base.Validate(); err != nil {
		t.Fatalf("good settings: %v", err)
	}
	pw := base
	pw.AppID, pw.AppSecret, pw.Password = "", "", password
	if err := pw.Validate(); err != nil {
		t.Fatalf("password settings: %v", err)
	}
	cases := []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"no URL", func(c *Config) { c.URL = "" }, "KINGDEE_URL: must be set"},
		{"relative URL", func(c *Config) { c.URL = "/K3Cloud/" }, "KINGDEE_URL: must start with https:// or http://"},
		{"ftp URL", func(c *Config) { c.URL = "ftp://h/K3Cloud/" }, "KINGDEE_URL: must start with"},
		{"no host", func(c *Config) { c.URL = "https:///K3Cloud/" }, "KINGDEE_URL: has no host"},
		{"user in URL", func(c *Config) { c.URL = "https://admin:" + password + "@h/K3Cloud/" }, "KINGDEE_URL: must not carry a user or password"},
		{"query", func(c *Config) { c.URL = "https://h/K3Cloud/?x=1" }, "KINGDEE_URL: must not have a query"},
		{"bad URL", func(c *Config) { c.URL = "https://h/%zz" + password }, "KINGDEE_URL: not a URL"},
		{"no acct", func(c *Config) { c.AcctID = " " }, "KINGDEE_ACCT_ID: must be set"},
		{"no user", func(c *Config) { c.Username = "" }, "KINGDEE_USERNAME: must be set"},
		{"no login", func(c *Config) { c.AppID, c.AppSecret = "", "" }, "KINGDEE_PASSWORD: must be set unless KINGDEE_APP_ID and KINGDEE_APP_SECRET are"},
		{"both logins", func(c *Config) { c.Password = password }, "KINGDEE_PASSWORD: set either KINGDEE_APP_ID with KINGDEE_APP_SECRET (LoginByAppSecret) or KINGDEE_PASSWORD (ValidateUser), not both"},
		{"secret without id", func(c *Config) { c.AppID = "" }, "KINGDEE_APP_ID: must be set with KINGDEE_APP_SECRET"},
		{"id without secret", func(c *Config) { c.AppSecret = "" }, "KINGDEE_APP_SECRET: must be set with KINGDEE_APP_ID"},
		{"lcid", func(c *Config) { c.LCID = -1 }, "KINGDEE_LCID: must be a locale id"},
		{"sessions", func(c *Config) { c.MaxSessions = 65 }, "KINGDEE_MAX_SESSIONS: must be between 1 and 64"},
		{"negative sessions", func(c *Config) { c.MaxSessions = -1 }, "KINGDEE_MAX_SESSIONS"},
		{"timeout", func(c *Config) { c.Timeout = -time.Second }, "KINGDEE_TIMEOUT: must not be negative"},
	}
	for _, tc := range cases {
		c := base
		tc.mod(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
			continue
		}
		noSecrets(t, tc.name, err.Error())
	}

	// Every problem at once, one line each, each naming its variable.
	err := Config{LCID: -5, MaxSessions: 100, Timeout: -1}.Validate()
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 7 {
		t.Fatalf("all problems: %d lines: %v", len(lines), err)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "KINGDEE_") {
			t.Errorf("line names no variable: %q", l)
		}
	}
}

func TestConfigDefaultsAndMasking(t *testing.T) {
	t.Parallel()
	c := Config{URL: "https://h/K3Cloud", AppSecret: appSecret, Password: password}.withDefaults()
	if s := (Config{URL: "https://u:" + password + "@h/K3Cloud/"}).String(); strings.Contains(s, password) {
		t.Errorf("password in the URL printed: %s", s)
	}
	if c.LCID != 2052 || c.MaxSessions != 4 || c.Timeout != 30*time.Second || c.URL != "https://h/K3Cloud/" {
		t.Errorf("defaults: %+v", c)
	}
	var logs testkit.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("settings", "kingdee", c)
	for _, s := range []string{c.String(), fmt.Sprintf("%v %+v %#v %s", c, c, c, c), logs.String()} {
		noSecrets(t, "printed settings", s)
		if !strings.Contains(s, "***") {
			t.Errorf("secrets not shown as masked: %s", s)
		}
	}
}
