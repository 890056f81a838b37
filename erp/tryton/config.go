package tryton

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/erpbridge/erpbridge/internal/reason"
)

// Defaults of the optional settings.
const (
	// DefaultTimeout bounds one JSON-RPC call (TRYTON_TIMEOUT).
	DefaultTimeout = 30 * time.Second
	// DefaultMaxConcurrent is how many calls one Sink makes at once
	// (TRYTON_MAX_CONCURRENT).
	DefaultMaxConcurrent = 4
)

// Config is how to reach one Tryton database. The environment variable of
// each field is named in its comment; secrets also come as _FILE forms,
// read by the config package.
type Config struct {
	// URL is the server's base URL (TRYTON_URL), e.g.
	// "http://127.0.0.1:8000/"; calls go to URL + Database + "/".
	URL string
	// Database is the Tryton database (TRYTON_DATABASE).
	Database string
	// User is the login (TRYTON_USER).
	User string
	// Password is the user's password (TRYTON_PASSWORD, or TRYTON_PASSWORD_FILE).
	Password string
	// Timeout bounds one JSON-RPC call (TRYTON_TIMEOUT); 0 means DefaultTimeout.
	Timeout time.Duration
	// MaxConcurrent bounds the calls one Sink makes at once
	// (TRYTON_MAX_CONCURRENT); 0 means DefaultMaxConcurrent.
	MaxConcurrent int
}

// Validate reports the first setting that cannot work, naming its
// environment variable and never a secret's value.
func (c Config) Validate() error {
	if strings.TrimSpace(c.URL) == "" {
		return errors.New("TRYTON_URL: must be set, e.g. http://127.0.0.1:8000/")
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		return fmt.Errorf("TRYTON_URL: not a URL: %s", reason.URLError(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("TRYTON_URL: scheme must be http or https, not %q", u.Scheme)
	}
	if u.Host == "" {
		return errors.New("TRYTON_URL: has no host")
	}
	if u.User != nil {
		return errors.New("TRYTON_URL: must not carry credentials; use TRYTON_USER and TRYTON_PASSWORD")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return errors.New("TRYTON_URL: must not have a query or fragment")
	}
	switch {
	case strings.TrimSpace(c.Database) == "":
		return errors.New("TRYTON_DATABASE: must be set")
	case strings.ContainsAny(c.Database, "/?#"):
		return errors.New("TRYTON_DATABASE: must not contain '/', '?' or '#'")
	case strings.TrimSpace(c.User) == "":
		return errors.New("TRYTON_USER: must be set")
	case c.Password == "":
		return errors.New("TRYTON_PASSWORD: must be set (or TRYTON_PASSWORD_FILE)")
	case c.Timeout < 0:
		return fmt.Errorf("TRYTON_TIMEOUT: must not be negative, got %s", c.Timeout)
	case c.MaxConcurrent < 0:
		return fmt.Errorf("TRYTON_MAX_CONCURRENT: must not be negative, got %d", c.MaxConcurrent)
	}
	return nil
}

// endpoint is the database's JSON-RPC URL: URL + database + "/".
func (c Config) endpoint() string {
	return strings.TrimRight(c.URL, "/") + "/" + url.PathEscape(c.Database) + "/"
}

func (c Config) withDefaults() Config {
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxConcurrent == 0 {
		c.MaxConcurrent = DefaultMaxConcurrent
	}
	return c
}
