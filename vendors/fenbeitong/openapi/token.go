package openapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/erpbridge/erpbridge/vendors/lenient"
)

// Token lifetimes.
const (
	// DefaultTokenLifetime is how long a token is taken to live when the
	// answer gives no expire_time that can be read and the token is not a
	// JWT with an exp claim.
	DefaultTokenLifetime = 2 * time.Hour
	// tokenRefreshMargin is how long before its expiry a token is replaced,
	// at most; a short-lived token is replaced after 90% of its life.
	tokenRefreshMargin = 5 * time.Minute
	// minTokenReuse is the least time a fetched token is reused, so an
	// expiry already past by this machine's clock (a skewed clock) does not
	// make every call fetch a token; a token Fenbeitong refuses is replaced
	// at once whatever its expiry.
	minTokenReuse = time.Minute
)

// accessToken returns the shared token, fetching one when there is none or
// it is due for refresh. Concurrent callers share one fetch and its result.
func (c *Client) accessToken(ctx context.Context) (string, error) {
	for {
		c.mu.Lock()
		if c.token != "" && c.now().Before(c.refreshAt) {
			token := c.token
			c.mu.Unlock()
			return token, nil
		}
		f := c.fetching
		leader := f == nil
		if leader {
			f = &tokenFetch{done: make(chan struct{})}
			c.fetching = f
		}
		c.mu.Unlock()

		if leader {
			token, refreshAt, err := c.fetchToken(ctx)
			c.mu.Lock()
			if err == nil {
				c.token, c.refreshAt = token, refreshAt
			}
			c.fetching = nil
			c.mu.Unlock()
			f.token, f.err = token, err
			close(f.done)
			if err != nil {
				return "", err
			}
			return token, nil
		}

		select {
		case <-f.done:
		case <-ctx.Done():
			return "", &Error{Call: "token", Retryable: true,
				Reason: "call abandoned while waiting for the token: " + ctx.Err().Error(), Err: ctx.Err()}
		}
		switch {
		case f.err == nil:
			return f.token, nil
		case ctx.Err() == nil && (errors.Is(f.err, context.Canceled) || errors.Is(f.err, context.DeadlineExceeded)):
			// The fetch was abandoned by its own caller's context, not ours: fetch again.
			continue
		default:
			return "", f.err
		}
	}
}

// dropToken forgets token if it is still the shared one, so the next call
// fetches a new one; a token already replaced is left alone.
func (c *Client) dropToken(token string) {
	c.mu.Lock()
	if c.token == token {
		c.token = ""
	}
	c.mu.Unlock()
}

// fetchToken gets a new token and says when to replace it.
func (c *Client) fetchToken(ctx context.Context) (token string, refreshAt time.Time, err error) {
	body, err := json.Marshal(map[string]string{"app_id": c.cfg.AppID, "app_key": c.cfg.AppKey})
	if err != nil {
		return "", time.Time{}, &Error{Call: "token", Reason: "cannot encode the request: " + err.Error(), Err: err}
	}
	data, e := c.post(ctx, "token", c.cfg.TokenPath, "application/json", body, "")
	if e != nil {
		return "", time.Time{}, e
	}
	var answer struct {
		AccessToken string          `json:"access_token"`
		ExpireTime  json.RawMessage `json:"expire_time"`
	}
	if err := json.Unmarshal(data, &answer); err != nil || strings.TrimSpace(answer.AccessToken) == "" {
		return "", time.Time{}, &Error{Call: "token", HTTPStatus: 200, Retryable: true,
			Reason: "answer has code 0 but no data.access_token string: " + fingerprint(data)}
	}
	now := c.now()
	return answer.AccessToken, refreshTime(now, TokenExpiry(answer.ExpireTime, answer.AccessToken, now)), nil
}

// refreshTime is when a token that expires at expiry, fetched at now, is
// replaced: tokenRefreshMargin (or a tenth of its life, when shorter)
// before expiry, and no sooner than minTokenReuse after now.
func refreshTime(now, expiry time.Time) time.Time {
	life := expiry.Sub(now)
	reuse := life - min(tokenRefreshMargin, life/10)
	return now.Add(max(reuse, minTokenReuse))
}

// TokenExpiry reads the token answer's expire_time, fetched at now:
//
//   - a number, or a string holding one, below 10^9: seconds from now
//     (7200 is two hours);
//   - from 10^9 to below 10^12: epoch seconds (10^9 is September 2001);
//   - 10^12 or more: epoch milliseconds;
//   - a string "2006-01-02 15:04:05" (China Standard Time) or RFC 3339;
//
// Zero, a negative number, null, absent or anything else: the exp claim of
// the token when it is a JWT, else now + DefaultTokenLifetime.
func TokenExpiry(expireTime json.RawMessage, token string, now time.Time) time.Time {
	var n lenient.Int
	if err := n.UnmarshalJSON(expireTime); err == nil && n.Valid && n.Value > 0 {
		switch v := n.Value; {
		case v < 1e9:
			return now.Add(time.Duration(v) * time.Second)
		case v < 1e12:
			return time.Unix(v, 0)
		default:
			return time.UnixMilli(v)
		}
	}
	var s string
	if err := json.Unmarshal(expireTime, &s); err == nil {
		s = strings.TrimSpace(s)
		if t, err := time.ParseInLocation(time.DateTime, s, lenient.China); err == nil {
			return t
		}
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t
		}
	}
	if exp, ok := jwtExpiry(token); ok {
		return exp
	}
	return now.Add(DefaultTokenLifetime)
}

// jwtExpiry reads the exp claim of a JWT without checking its signature
// (only Fenbeitong checks it).
func jwtExpiry(token string) (time.Time, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Exp lenient.Int `json:"exp"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || !claims.Exp.Valid || claims.Exp.Value <= 0 || claims.Exp.Value >= 1e12 {
		return time.Time{}, false
	}
	return time.Unix(claims.Exp.Value, 0), true
}
