// Package openapi calls Fenbeitong's open API for car orders: it fetches and
// reuses the access token, signs every call, paces calls to a rate, and
// returns each order exactly as Fenbeitong sent it, in the shape of a push
// (order_info, price_info, user_info, passenger_info, saas_info,
// third_info), so a pulled order goes through the same decoding as a pushed
// one (package fenbeitong).
//
// Every call but the token's is a POST of application/x-www-form-urlencoded
// fields timestamp (13-digit epoch milliseconds), sign, access_token,
// employee_id, employee_type and data (a JSON object as text), where sign is
// the lower-case hex MD5 of "timestamp=<timestamp>&data=<data>&sign_key=<sign
// key>" (see Sign). The token is a POST of the JSON {"app_id","app_key"}.
// Answers are {"code":0,"msg":"success","data":...}; any other code is an
// *Error carrying Fenbeitong's msg.
//
// The app key, the sign key and the access token never appear in an error,
// in the text of a Config or Client, or in their JSON.
package openapi

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/erpbridge/erpbridge/internal/reason"
)

// Defaults of the Config fields left zero.
const (
	DefaultEmployeeType = "0" // a Fenbeitong user; "1" is a third-party user id
	DefaultTokenPath    = "/openapi/auth/getToken"
	DefaultListPath     = "/openapi/func/orders/car/list"
	DefaultDetailPath   = "/openapi/func/orders/car/detail"
	DefaultRPS          = 5.0
	DefaultTimeout      = 30 * time.Second
)

// MaxRPS bounds Config.RPS: far above what Fenbeitong allows, it only
// catches a typing error.
const MaxRPS = 1000.0

// redacted stands for a secret that is set.
const redacted = "[redacted]"

// Config is how to reach Fenbeitong's open API. Zero fields take the
// defaults above (see WithDefaults).
type Config struct {
	// URL is the API's base URL, e.g. https://openapi.fenbeitong.com
	// (FENBEITONG_API_URL). The paths are appended to it.
	URL string
	// AppID is the company's app id (FENBEITONG_APP_ID).
	AppID string
	// AppKey is the company's app key, which buys the access token
	// (FENBEITONG_APP_KEY). Secret.
	AppKey string
	// SignKey is the key every call is signed with (FENBEITONG_SIGN_KEY).
	// Secret.
	SignKey string
	// EmployeeID is the employee the calls are made as
	// (FENBEITONG_EMPLOYEE_ID).
	EmployeeID string
	// EmployeeType says what EmployeeID is: "0" a Fenbeitong user id (the
	// default), "1" a third-party user id (FENBEITONG_EMPLOYEE_TYPE).
	EmployeeType string
	// TokenPath is the token endpoint (FENBEITONG_API_TOKEN_PATH); the
	// public pages do not pin it down.
	TokenPath string
	// ListPath is the car order list endpoint.
	ListPath string
	// DetailPath is the car order detail endpoint.
	DetailPath string
	// RPS is the most calls a second one Client makes, token calls included
	// (FENBEITONG_API_RPS); fractions are allowed.
	RPS float64
	// Timeout bounds one HTTP call, from sending to reading the whole answer.
	Timeout time.Duration
}

// WithDefaults returns the config with its zero fields set to the defaults.
func (c Config) WithDefaults() Config {
	c.EmployeeType = cmp.Or(c.EmployeeType, DefaultEmployeeType)
	c.TokenPath = cmp.Or(c.TokenPath, DefaultTokenPath)
	c.ListPath = cmp.Or(c.ListPath, DefaultListPath)
	c.DetailPath = cmp.Or(c.DetailPath, DefaultDetailPath)
	c.RPS = cmp.Or(c.RPS, DefaultRPS)
	c.Timeout = cmp.Or(c.Timeout, DefaultTimeout)
	return c
}

// Validate reports every problem of the config (after defaults), each
// naming the environment variable (or the field, for those without one)
// and never a secret's value.
func (c Config) Validate() error {
	c = c.WithDefaults()
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if c.URL == "" {
		add("FENBEITONG_API_URL is required: the open API's base URL, like https://openapi.fenbeitong.com")
	} else if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		add("FENBEITONG_API_URL=%q is not an http(s) URL with a host, like https://openapi.fenbeitong.com", reason.RedactURL(c.URL))
	} else if u.RawQuery != "" || u.Fragment != "" {
		add("FENBEITONG_API_URL=%q must not have a query or fragment: the paths are appended to it", reason.RedactURL(c.URL))
	}
	required := []struct{ name, value string }{
		{"FENBEITONG_APP_ID", c.AppID},
		{"FENBEITONG_APP_KEY", c.AppKey},
		{"FENBEITONG_SIGN_KEY", c.SignKey},
		{"FENBEITONG_EMPLOYEE_ID", c.EmployeeID},
	}
	for _, r := range required {
		switch {
		case strings.TrimSpace(r.value) == "":
			add("%s is required", r.name)
		case hasControl(r.value):
			add("%s holds a line break or another control character", r.name)
		}
	}
	if c.EmployeeType != "0" && c.EmployeeType != "1" {
		add("FENBEITONG_EMPLOYEE_TYPE=%q must be 0 (a Fenbeitong user id) or 1 (a third-party user id)", c.EmployeeType)
	}
	paths := []struct{ name, value string }{
		{"FENBEITONG_API_TOKEN_PATH", c.TokenPath},
		{"Config.ListPath", c.ListPath},
		{"Config.DetailPath", c.DetailPath},
	}
	for _, p := range paths {
		if !strings.HasPrefix(p.value, "/") || strings.ContainsAny(p.value, "?# \t\r\n") {
			add("%s=%q must be a path starting with /, without a query", p.name, p.value)
		}
	}
	if !(c.RPS > 0 && c.RPS <= MaxRPS) { // also refuses NaN
		add("FENBEITONG_API_RPS=%v must be a number of calls a second above 0 and at most %v", c.RPS, MaxRPS)
	}
	if c.Timeout < 0 {
		add("Config.Timeout=%s must not be negative", c.Timeout)
	}
	return errors.Join(errs...)
}

// String describes the config with the app key and sign key redacted.
func (c Config) String() string {
	return fmt.Sprintf("openapi.Config{URL:%q AppID:%q AppKey:%s SignKey:%s EmployeeID:%q EmployeeType:%q TokenPath:%q ListPath:%q DetailPath:%q RPS:%v Timeout:%s}",
		reason.RedactURL(c.URL), c.AppID, secretText(c.AppKey), secretText(c.SignKey), c.EmployeeID, c.EmployeeType,
		c.TokenPath, c.ListPath, c.DetailPath, c.RPS, c.Timeout)
}

// Format prints String for every verb (%v, %+v, %#v, %s, %d, ...), so no
// verb prints the secrets through reflection.
func (c Config) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

// MarshalJSON writes the config with the secrets redacted: a Config never
// carries its secrets into JSON (a log line, a workflow payload).
func (c Config) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{
		"url": reason.RedactURL(c.URL), "app_id": c.AppID, "app_key": secretText(c.AppKey),
		"sign_key": secretText(c.SignKey), "employee_id": c.EmployeeID, "employee_type": c.EmployeeType,
		"token_path": c.TokenPath, "list_path": c.ListPath, "detail_path": c.DetailPath,
		"rps": c.RPS, "timeout": c.Timeout.String(),
	})
}

// LogValue logs the config with the secrets redacted.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("url", reason.RedactURL(c.URL)), slog.String("app_id", c.AppID),
		slog.String("app_key", secretText(c.AppKey)), slog.String("sign_key", secretText(c.SignKey)),
		slog.String("employee_id", c.EmployeeID), slog.String("employee_type", c.EmployeeType),
		slog.String("token_path", c.TokenPath), slog.String("list_path", c.ListPath),
		slog.String("detail_path", c.DetailPath), slog.Float64("rps", c.RPS),
		slog.Duration("timeout", c.Timeout),
	)
}

// secretText is what stands for a secret in text: "[redacted]" when set,
// `""` when empty (so a missing secret still shows).
func secretText(s string) string {
	if s == "" {
		return `""`
	}
	return redacted
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < ' ' || r == 0x7f {
			return true
		}
	}
	return false
}
