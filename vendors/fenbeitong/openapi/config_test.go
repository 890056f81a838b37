package openapi

import (
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func slogLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewJSONHandler(w, nil)) }

// TestConfigDefaults: zero fields take the documented defaults.
func TestConfigDefaults(t *testing.T) {
	c := Config{}.WithDefaults()
	if c.EmployeeType != "0" || c.TokenPath != "/openapi/auth/getToken" || c.ListPath != "/openapi/func/orders/car/list" ||
		c.DetailPath != "/openapi/func/orders/car/detail" || c.RPS != 5 || c.Timeout != 30*time.Second {
		t.Fatalf("defaults %v", c)
	}
	if err := testConfig("https://openapi.fenbeitong.com").Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
}

// TestConfigValidateNamesEveryVariable: an empty config names every
// required variable; wrong values name theirs, and never a secret.
func TestConfigValidateNamesEveryVariable(t *testing.T) {
	err := Config{}.Validate()
	for _, name := range []string{"FENBEITONG_API_URL", "FENBEITONG_APP_ID", "FENBEITONG_APP_KEY", "FENBEITONG_SIGN_KEY", "FENBEITONG_EMPLOYEE_ID"} {
		if err == nil || !strings.Contains(err.Error(), name+" is required") {
			t.Errorf("empty config: %v does not name %s", err, name)
		}
	}
	bad := testConfig("ftp://user:pw@host")
	bad.EmployeeType = "2"
	bad.TokenPath = "openapi/auth"
	bad.RPS = -1
	bad.Timeout = -time.Second
	bad.AppKey = "key\nwith a line break"
	err = bad.Validate()
	for _, want := range []string{"FENBEITONG_API_URL", "FENBEITONG_EMPLOYEE_TYPE", "FENBEITONG_API_TOKEN_PATH", "FENBEITONG_API_RPS",
		"Config.Timeout", "FENBEITONG_APP_KEY holds a line break"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("bad config: %v does not name %s", err, want)
		}
	}
	if strings.Contains(err.Error(), "pw@") || strings.Contains(err.Error(), "with a line break\"") {
		t.Errorf("a secret in %v", err)
	}
	if _, err := New(bad); err == nil || !strings.Contains(err.Error(), "FENBEITONG_EMPLOYEE_TYPE") {
		t.Errorf("New accepted a bad config: %v", err)
	}
}

// TestTokenExpiry reads every form of expire_time the client accepts.
func TestTokenExpiry(t *testing.T) {
	now := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	// a JWT whose payload is {"exp":1714561200} (2024-05-01 11:00 UTC)
	jwt := "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MTQ1NjEyMDB9.sig"
	cases := []struct {
		name, expire, token string
		want                time.Time
	}{
		{"seconds from now", `7200`, "t", now.Add(2 * time.Hour)},
		{"seconds as a string", `"7200"`, "t", now.Add(2 * time.Hour)},
		{"thirty days", `2592000`, "t", now.Add(30 * 24 * time.Hour)},
		{"epoch seconds", `1714564800`, "t", time.Unix(1714564800, 0)},
		{"epoch milliseconds", `1714564800000`, "t", time.UnixMilli(1714564800000)},
		{"china time", `"2024-05-01 20:00:00"`, "t", time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)},
		{"rfc 3339", `"2024-05-01T12:00:00Z"`, "t", time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)},
		{"absent, jwt", ``, jwt, time.Unix(1714561200, 0)},
		{"zero, jwt", `0`, jwt, time.Unix(1714561200, 0)},
		{"absent", ``, "t", now.Add(DefaultTokenLifetime)},
		{"unreadable", `{"x":1}`, "t", now.Add(DefaultTokenLifetime)},
	}
	for _, c := range cases {
		if got := TokenExpiry(json.RawMessage(c.expire), c.token, now); !got.Equal(c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	// Refresh 5 minutes early, a tenth early when short, never within a minute.
	for _, c := range []struct{ life, reuse time.Duration }{
		{2 * time.Hour, 115 * time.Minute}, {10 * time.Minute, 9 * time.Minute}, {30 * time.Second, time.Minute}, {-time.Hour, time.Minute},
	} {
		if got := refreshTime(now, now.Add(c.life)).Sub(now); got != c.reuse {
			t.Errorf("life %s: reused %s, want %s", c.life, got, c.reuse)
		}
	}
}
