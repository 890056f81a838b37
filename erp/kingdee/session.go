package kingdee

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"sync"
	"time"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/internal/reason"
)

// WebAPI operations: the paths appended to the base URL.
const (
	pathLoginByAppSecret = "Kingdee.BOS.WebApi.ServicesStub.AuthService.LoginByAppSecret.common.kdsvc"
	pathValidateUser     = "Kingdee.BOS.WebApi.ServicesStub.AuthService.ValidateUser.common.kdsvc"
	pathSave             = "Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.Save.common.kdsvc"
	pathQuery            = "Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.ExecuteBillQuery.common.kdsvc"
	pathSubmit           = "Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.Submit.common.kdsvc"
	pathAudit            = "Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.Audit.common.kdsvc"
)

// sessionCookie is the cookie that carries a Kingdee session.
const sessionCookie = "kdservice-sessionid"

// maxAnswerBytes bounds an answer; a longer one is unexpected.
const maxAnswerBytes = 4 << 20

// excerptBytes bounds how much of an unexpected answer a reason quotes.
const excerptBytes = 512

// session is one Kingdee login: its cookies, used by one call at a time.
type session struct {
	n      int // 1-based, names the session in logs
	client *http.Client
	live   bool // logged in, as far as the connector knows
}

// pool holds the sessions: slots bounds the calls at once, free is a stack
// so the session used last (logged in, its cookies warm) is used next and
// the others log in only when calls overlap.
type pool struct {
	slots chan struct{}
	mu    sync.Mutex
	free  []*session
}

func newPool(n int, client func() *http.Client) *pool {
	p := &pool{slots: make(chan struct{}, n)}
	for i := n; i >= 1; i-- {
		p.free = append(p.free, &session{n: i, client: client()})
	}
	return p
}

// acquire takes a free session, waiting while all are busy.
func (s *Sink) acquire(ctx context.Context, r erp.Record, op string) (*session, *erp.Error) {
	select {
	case s.pool.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, &erp.Error{Record: r.Label(), Retryable: true, Err: ctx.Err(),
			Reason: fmt.Sprintf("Kingdee %s abandoned while all %d sessions were busy: %v", op, s.cfg.MaxSessions, ctx.Err())}
	}
	s.pool.mu.Lock()
	defer s.pool.mu.Unlock()
	sess := s.pool.free[len(s.pool.free)-1]
	s.pool.free = s.pool.free[:len(s.pool.free)-1]
	return sess, nil
}

func (s *Sink) release(sess *session) {
	s.pool.mu.Lock()
	s.pool.free = append(s.pool.free, sess)
	s.pool.mu.Unlock()
	<-s.pool.slots
}

// call makes one WebAPI call on a session of the pool and returns the body
// of its HTTP 200 answer. A session without a login logs in first; an
// answer saying the session is lost gets one new login and one repeat.
// Every failure on the way is a retryable *erp.Error.
func (s *Sink) call(ctx context.Context, r erp.Record, op, path string, payload any) ([]byte, *erp.Error) {
	body, err := json.Marshal(payload)
	if err != nil {
		return nil, s.fail(r, false, 0, fmt.Sprintf("encode the %s request: %v", op, err), err)
	}
	sess, e := s.acquire(ctx, r, op)
	if e != nil {
		return nil, e
	}
	defer s.release(sess)

	for attempt := 1; ; attempt++ {
		if !sess.live {
			if e := s.login(ctx, r, sess); e != nil {
				return nil, e
			}
		}
		answer, e := s.post(ctx, r, sess, op, path, body)
		if e != nil {
			return nil, e
		}
		if !lostIn(answer) {
			return answer, nil
		}
		sess.live = false
		if attempt == 2 {
			return nil, s.fail(r, true, 0, fmt.Sprintf("Kingdee answered %s that the session was lost (%s) right after a new login; is another system logging in as KINGDEE_USERNAME and ending its sessions?", op, lostSessionText), nil)
		}
		s.log.InfoContext(ctx, "kingdee session lost; logging in again", "session", sess.n, "operation", op)
	}
}

// login opens a new session with the configured login, on a new cookie jar.
func (s *Sink) login(ctx context.Context, r erp.Record, sess *session) *erp.Error {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return s.fail(r, true, 0, "create a cookie jar: "+err.Error(), err)
	}
	sess.client.Jar = jar
	op, path := "LoginByAppSecret", pathLoginByAppSecret
	payload := map[string]any{"acctID": s.cfg.AcctID, "username": s.cfg.Username, "lcid": s.cfg.LCID}
	vars := "KINGDEE_ACCT_ID, KINGDEE_USERNAME, KINGDEE_APP_ID and KINGDEE_APP_SECRET"
	if s.cfg.AppSecretLogin() {
		payload["appId"], payload["appSecret"] = s.cfg.AppID, s.cfg.AppSecret
	} else {
		op, path = "ValidateUser", pathValidateUser
		payload["password"] = s.cfg.Password
		vars = "KINGDEE_ACCT_ID, KINGDEE_USERNAME and KINGDEE_PASSWORD"
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return s.fail(r, true, 0, "encode the login request: "+err.Error(), nil)
	}
	answer, e := s.post(ctx, r, sess, op, path, body)
	if e != nil {
		return e
	}
	var a struct {
		LoginResultType any `json:"LoginResultType"`
		Message         any `json:"Message"`
	}
	if decodeStrict(answer, &a) != nil || scalar(a.LoginResultType) == "" {
		// The body is not quoted: a login answer carries the session id.
		return s.fail(r, true, 0, fmt.Sprintf("unexpected answer to Kingdee %s (%d bytes, no LoginResultType); is KINGDEE_URL the base ending in /K3Cloud/?", op, len(answer)), nil)
	}
	if t := scalar(a.LoginResultType); t != "1" {
		msg := reason.OneLine(scalar(a.Message))
		if msg == "" {
			msg = "no message"
		}
		// Retryable: an operator fixes the settings and the records wait,
		// rather than every record being parked for it.
		return s.fail(r, true, 0, fmt.Sprintf("Kingdee refused the %s login (LoginResultType %s: %s); check %s", op, t, msg, vars), nil)
	}
	if !hasCookie(jar, s.base, sessionCookie) {
		return s.fail(r, true, 0, fmt.Sprintf("Kingdee's %s answered success but set no %s cookie", op, sessionCookie), nil)
	}
	sess.live = true
	s.log.InfoContext(ctx, "kingdee session logged in", "session", sess.n, "login", op)
	return nil
}

func hasCookie(jar http.CookieJar, u *url.URL, name string) bool {
	for _, c := range jar.Cookies(u) {
		if c.Name == name && c.Value != "" {
			return true
		}
	}
	return false
}

// post sends one request on sess and returns the body of an HTTP 200
// answer; timeouts, network errors and other statuses are retryable errors.
func (s *Sink) post(ctx context.Context, r erp.Record, sess *session, op, path string, body []byte) ([]byte, *erp.Error) {
	callCtx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(callCtx, http.MethodPost, s.base.String()+path, bytes.NewReader(body))
	if err != nil {
		return nil, s.fail(r, true, 0, fmt.Sprintf("build the Kingdee %s request: %v", op, err), nil)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "erpbridge")
	resp, err := sess.client.Do(req)
	if err != nil {
		return nil, s.fail(r, true, 0, fmt.Sprintf("Kingdee %s: %s", op, reason.Transport(ctx, err, s.cfg.Timeout)), err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	if err != nil {
		return nil, s.fail(r, true, 0, fmt.Sprintf("Kingdee %s: answer cut short: %s", op, reason.Transport(ctx, err, s.cfg.Timeout)), err)
	}
	code := resp.StatusCode
	switch {
	case code >= 500 || code == http.StatusRequestTimeout || code == http.StatusTooManyRequests:
		e := s.fail(r, true, code, fmt.Sprintf("Kingdee %s answered HTTP %d: %s", op, code, excerpt(answer, excerptBytes)), nil)
		e.RetryAfter = erp.RetryAfter(resp.Header.Get("Retry-After"), time.Now())
		return nil, e
	case code != http.StatusOK:
		// Not quoted: a proxy's or login page's body says nothing useful.
		return nil, s.fail(r, true, 0, fmt.Sprintf("Kingdee %s answered HTTP %d %s; is KINGDEE_URL the base ending in /K3Cloud/?", op, code, http.StatusText(code)), nil)
	case len(answer) > maxAnswerBytes:
		return nil, s.fail(r, true, 0, fmt.Sprintf("Kingdee %s answered more than %d bytes", op, maxAnswerBytes), nil)
	}
	return answer, nil
}
