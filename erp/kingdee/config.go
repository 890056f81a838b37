package kingdee

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/erpbridge/erpbridge/internal/reason"
)

// Defaults of the settings.
const (
	// DefaultLCID is simplified Chinese (KINGDEE_LCID).
	DefaultLCID = 2052
	// DefaultMaxSessions is KINGDEE_MAX_SESSIONS' default: Kingdee advises 3
	// to 5 concurrent sessions at most.
	DefaultMaxSessions = 4
	// DefaultTimeout bounds one WebAPI call (KINGDEE_TIMEOUT).
	DefaultTimeout = 30 * time.Second
	// MaxMaxSessions bounds KINGDEE_MAX_SESSIONS.
	MaxMaxSessions = 64
)

// Config is how the connector reaches and logs in to one Kingdee data centre.
// The AppSecret and Password are secrets: String and LogValue mask them.
type Config struct {
	// URL is the installation's base, ending in /K3Cloud/ (KINGDEE_URL), e.g.
	// "https://erp.example.com/K3Cloud/". A missing final slash is added.
	URL string
	// AcctID is the data centre id (KINGDEE_ACCT_ID).
	AcctID string
	// Username is the Kingdee user erpbridge acts as (KINGDEE_USERNAME).
	Username string
	// AppID and AppSecret log in with LoginByAppSecret (KINGDEE_APP_ID,
	// KINGDEE_APP_SECRET): the third-party system login registered in Kingdee.
	AppID     string
	AppSecret string
	// Password logs in with ValidateUser instead (KINGDEE_PASSWORD). Exactly
	// one of the two ways is set.
	Password string
	// LCID is the language of Kingdee's messages (KINGDEE_LCID, 0 means
	// DefaultLCID).
	LCID int
	// MaxSessions is how many sessions, and so calls at once, this process
	// uses at most (KINGDEE_MAX_SESSIONS, 0 means DefaultMaxSessions).
	MaxSessions int
	// Timeout bounds one WebAPI call (KINGDEE_TIMEOUT, 0 means
	// DefaultTimeout). A Send makes two to six calls.
	Timeout time.Duration
}

// withDefaults fills the zero settings with their defaults.
func (c Config) withDefaults() Config {
	if c.LCID == 0 {
		c.LCID = DefaultLCID
	}
	if c.MaxSessions == 0 {
		c.MaxSessions = DefaultMaxSessions
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.URL != "" && !strings.HasSuffix(c.URL, "/") {
		c.URL += "/"
	}
	return c
}

// AppSecretLogin says whether the connector logs in with LoginByAppSecret
// (else ValidateUser).
func (c Config) AppSecretLogin() bool { return c.AppID != "" || c.AppSecret != "" }

// Validate reports every setting that is missing or wrong, each error naming
// its environment variable and never a secret's value.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if strings.TrimSpace(c.URL) == "" {
		bad("KINGDEE_URL: must be set to the installation's base URL, e.g. https://erp.example.com/K3Cloud/")
	} else if u, err := url.Parse(c.URL); err != nil {
		bad("KINGDEE_URL: not a URL (%v)", reason.URLError(err))
	} else {
		switch {
		case u.Scheme != "http" && u.Scheme != "https":
			bad("KINGDEE_URL: must start with https:// or http://")
		case u.Host == "":
			bad("KINGDEE_URL: has no host")
		case u.User != nil:
			bad("KINGDEE_URL: must not carry a user or password; use KINGDEE_USERNAME with KINGDEE_APP_ID/KINGDEE_APP_SECRET or KINGDEE_PASSWORD")
		case u.RawQuery != "" || u.Fragment != "":
			bad("KINGDEE_URL: must not have a query or fragment; give the base ending in /K3Cloud/")
		}
	}
	if strings.TrimSpace(c.AcctID) == "" {
		bad("KINGDEE_ACCT_ID: must be set to the data centre id")
	}
	if strings.TrimSpace(c.Username) == "" {
		bad("KINGDEE_USERNAME: must be set to the Kingdee user erpbridge logs in as")
	}
	switch {
	case c.AppSecretLogin() && c.Password != "":
		bad("KINGDEE_PASSWORD: set either KINGDEE_APP_ID with KINGDEE_APP_SECRET (LoginByAppSecret) or KINGDEE_PASSWORD (ValidateUser), not both")
	case c.AppSecretLogin() && c.AppID == "":
		bad("KINGDEE_APP_ID: must be set with KINGDEE_APP_SECRET")
	case c.AppSecretLogin() && c.AppSecret == "":
		bad("KINGDEE_APP_SECRET: must be set with KINGDEE_APP_ID")
	case !c.AppSecretLogin() && c.Password == "":
		bad("KINGDEE_PASSWORD: must be set unless KINGDEE_APP_ID and KINGDEE_APP_SECRET are (one way to log in is required)")
	}
	if c.LCID < 0 {
		bad("KINGDEE_LCID: must be a locale id such as 2052 (simplified Chinese) or 1033 (English), got %d", c.LCID)
	}
	if c.MaxSessions < 0 || c.MaxSessions > MaxMaxSessions {
		bad("KINGDEE_MAX_SESSIONS: must be between 1 and %d (Kingdee advises 3 to 5), got %d", MaxMaxSessions, c.MaxSessions)
	}
	if c.Timeout < 0 {
		bad("KINGDEE_TIMEOUT: must not be negative, got %s", c.Timeout)
	}
	return errors.Join(errs...)
}

// String describes the settings with the secrets masked.
func (c Config) String() string {
	return fmt.Sprintf("kingdee.Config{URL:%q AcctID:%q Username:%q AppID:%q AppSecret:%s Password:%s LCID:%d MaxSessions:%d Timeout:%s}",
		reason.RedactURL(c.URL), c.AcctID, c.Username, c.AppID, mask(c.AppSecret), mask(c.Password), c.LCID, c.MaxSessions, c.Timeout)
}

// GoString is String, so %#v masks the secrets too.
func (c Config) GoString() string { return c.String() }

// LogValue logs the settings with the secrets masked.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("url", reason.RedactURL(c.URL)), slog.String("acct_id", c.AcctID), slog.String("username", c.Username),
		slog.String("app_id", c.AppID), slog.String("app_secret", mask(c.AppSecret)),
		slog.String("password", mask(c.Password)), slog.Int("lcid", c.LCID),
		slog.Int("max_sessions", c.MaxSessions), slog.Duration("timeout", c.Timeout))
}

func mask(secret string) string {
	if secret == "" {
		return `""`
	}
	return "***"
}
