package kdsim

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// maxBodyBytes bounds a request body.
const maxBodyBytes = 8 << 20

// Session cookies, as Kingdee sets them.
const (
	CookieSession = "kdservice-sessionid"
	CookieASPNET  = "ASP.NET_SessionId"
)

// LostSessionMessage is the message of a call whose session is unknown or expired.
const LostSessionMessage = "会话信息已丢失，请重新登录"

// MsgCode values Kingdee documents for ResponseStatus.MsgCode.
const (
	msgContextLost   = 1
	msgParameter     = 8
	msgNotFound      = 10
	msgValidation    = 11
	msgNotOperable   = 12
	msgUnknownObject = 9
)

var operations = []string{OpLoginByAppSecret, OpValidateUser, OpSave, OpExecuteBillQuery, OpView, OpSubmit, OpAudit}

// paths maps the last path segment, lower-cased, to its operation.
var paths = map[string]string{
	"kingdee.bos.webapi.servicesstub.authservice.loginbyappsecret.common.kdsvc":        OpLoginByAppSecret,
	"kingdee.bos.webapi.servicesstub.authservice.validateuser.common.kdsvc":            OpValidateUser,
	"kingdee.bos.webapi.servicesstub.dynamicformservice.save.common.kdsvc":             OpSave,
	"kingdee.bos.webapi.servicesstub.dynamicformservice.executebillquery.common.kdsvc": OpExecuteBillQuery,
	"kingdee.bos.webapi.servicesstub.dynamicformservice.view.common.kdsvc":             OpView,
	"kingdee.bos.webapi.servicesstub.dynamicformservice.submit.common.kdsvc":           OpSubmit,
	"kingdee.bos.webapi.servicesstub.dynamicformservice.audit.common.kdsvc":            OpAudit,
}

// paramNames are each operation's parameters, in the order of the
// positional "parameters" array.
var paramNames = map[string][]string{
	OpLoginByAppSecret: {"acctID", "username", "appId", "appSecret", "lcid"},
	OpValidateUser:     {"acctID", "username", "password", "lcid"},
	OpSave:             {"formid", "data"},
	OpExecuteBillQuery: {"data"},
	OpView:             {"formid", "data"},
	OpSubmit:           {"formid", "data"},
	OpAudit:            {"formid", "data"},
}

// Handler returns the WebAPI, served under any prefix (usually /K3Cloud/):
//
//	POST .../Kingdee.BOS.WebApi.ServicesStub.AuthService.LoginByAppSecret.common.kdsvc
//	POST .../Kingdee.BOS.WebApi.ServicesStub.AuthService.ValidateUser.common.kdsvc
//	POST .../Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.{Save,ExecuteBillQuery,View,Submit,Audit}.common.kdsvc
//
// and, for people and tests, the simulator's own:
//
//	GET /kdsim/bills   every bill (JSON)
//	GET /kdsim/stats   counters (JSON)
//	GET /kdsim/faults  faults in force; PUT replaces them (JSON Faults)
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /kdsim/bills", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.Bills()) })
	mux.HandleFunc("GET /kdsim/stats", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.Stats()) })
	mux.HandleFunc("GET /kdsim/faults", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.Faults()) })
	mux.HandleFunc("PUT /kdsim/faults", s.putFaults)
	mux.HandleFunc("/", s.serveAPI)
	return mux
}

func (s *Server) putFaults(w http.ResponseWriter, r *http.Request) {
	var f Faults
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "faults: " + err.Error()})
		return
	}
	if err := s.SetFaults(f); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, s.Faults())
}

// serveAPI answers one WebAPI call: count, injected failure, login or
// session, the operation, latency, answer.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	seg := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	op, ok := paths[strings.ToLower(seg)]

	s.mu.Lock()
	if !ok {
		op = "unknown"
	}
	s.stats.Calls[op]++
	s.stats.InFlight++
	s.stats.MaxInFlight = max(s.stats.MaxInFlight, s.stats.InFlight)
	fail := 0
	if s.faults.FailNext > 0 {
		s.faults.FailNext--
		s.stats.Injected5xx++
		fail = s.faults.FailStatus
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.stats.InFlight--
		s.mu.Unlock()
	}()

	if !ok {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if fail != 0 {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(fail)
		fmt.Fprintf(w, "<html><head><title>%d %s</title></head><body><h1>%d %s</h1><p>injected by kdsim</p></body></html>",
			fail, http.StatusText(fail), fail, http.StatusText(fail))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		http.Error(w, "request body: "+err.Error(), http.StatusRequestEntityTooLarge)
		return
	}
	params, perr := readParams(body, paramNames[op])

	if op == OpLoginByAppSecret || op == OpValidateUser {
		s.login(w, op, params, perr)
		return
	}

	ss, waited, lerr := s.acquire(r.Context(), r)
	if lerr != nil {
		return // the client went away while waiting for its session
	}
	if ss == nil {
		s.mu.Lock()
		s.stats.LostSession++
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, failure(op, msgContextLost, "", LostSessionMessage))
		return
	}
	defer s.release(ss)
	if waited {
		s.mu.Lock()
		s.stats.SessionWaits++
		s.mu.Unlock()
	}

	var answer any
	if perr != nil {
		answer = failure(op, msgParameter, "", "参数格式错误："+perr.Error())
	} else {
		answer = s.operate(op, params)
	}
	s.delay(r.Context(), op)
	writeJSON(w, http.StatusOK, answer)
}

// delay waits out the latency fault of op, or until the client goes away.
func (s *Server) delay(ctx context.Context, op string) {
	s.mu.Lock()
	d := time.Duration(s.faults.LatencyMS) * time.Millisecond
	ops := s.faults.LatencyOps
	s.mu.Unlock()
	if d <= 0 || (len(ops) > 0 && !slices.Contains(ops, op)) {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// login checks the credentials and opens a session.
func (s *Server) login(w http.ResponseWriter, op string, p map[string]any, perr error) {
	reason := ""
	switch {
	case perr != nil:
		reason = "参数格式错误：" + perr.Error()
	case text(p["acctID"]) != s.opts.AcctID || s.opts.AcctID == "":
		reason = "数据中心不存在，请检查数据中心ID"
	case op == OpLoginByAppSecret && (s.opts.AppID == "" || s.opts.AppSecret == ""):
		reason = "第三方系统登录授权未启用"
	case op == OpLoginByAppSecret && (text(p["appId"]) != s.opts.AppID || text(p["appSecret"]) != s.opts.AppSecret):
		reason = "应用ID或应用密钥错误"
	case op == OpValidateUser && s.opts.Password == "":
		reason = "用户名密码登录未启用"
	case op == OpValidateUser && text(p["password"]) != s.opts.Password:
		reason = "用户名或密码错误！"
	case text(p["username"]) != s.opts.Username:
		reason = "用户名或密码错误！"
	}
	if reason != "" {
		s.mu.Lock()
		s.stats.LoginFailures++
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{
			"Message": reason, "MessageCode": "CheckPasswordPolicy", "LoginResultType": 0,
			"Context": nil, "KDSVCSessionId": nil, "IsSuccessByAPI": false,
		})
		return
	}
	ss := &session{id: randomHex(16), aspnet: randomHex(12), lock: make(chan struct{}, 1)}
	s.mu.Lock()
	ss.lastUsed = s.opts.Now()
	s.sessions[ss.id] = ss
	s.stats.Logins++
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: CookieSession, Value: ss.id, Path: "/", HttpOnly: true})
	http.SetCookie(w, &http.Cookie{Name: CookieASPNET, Value: ss.aspnet, Path: "/", HttpOnly: true})
	writeJSON(w, http.StatusOK, map[string]any{
		"Message": nil, "MessageCode": "CheckPasswordPolicy", "LoginResultType": 1,
		"Context": map[string]any{
			"UserLocale": "zh-CN", "LogLocale": "zh-CN", "DBid": s.opts.AcctID, "DatabaseType": 3,
			"SessionId": ss.aspnet, "UserName": s.opts.Username, "DataCenterName": "kdsim",
		},
		"KDSVCSessionId": ss.id, "IsSuccessByAPI": true,
	})
}

// acquire finds the caller's session (nil when unknown or expired) and
// takes its lock, waiting while another call holds it; waited says whether
// it had to. An error means ctx ended while waiting.
func (s *Server) acquire(ctx context.Context, r *http.Request) (ss *session, waited bool, err error) {
	c, err := r.Cookie(CookieSession)
	if err != nil {
		return nil, false, nil
	}
	s.mu.Lock()
	ss = s.sessions[c.Value]
	if ss != nil && s.opts.Now().Sub(ss.lastUsed) > s.opts.SessionIdle {
		delete(s.sessions, ss.id)
		ss = nil
	}
	if ss != nil {
		if a, err := r.Cookie(CookieASPNET); err == nil && a.Value != ss.aspnet {
			ss = nil
		}
	}
	s.mu.Unlock()
	if ss == nil {
		return nil, false, nil
	}
	select {
	case ss.lock <- struct{}{}:
	default:
		waited = true
		select {
		case ss.lock <- struct{}{}:
		case <-ctx.Done():
			return nil, true, ctx.Err()
		}
	}
	s.mu.Lock()
	ss.lastUsed = s.opts.Now()
	s.mu.Unlock()
	return ss, waited, nil
}

func (s *Server) release(ss *session) {
	s.mu.Lock()
	ss.lastUsed = s.opts.Now()
	s.mu.Unlock()
	<-ss.lock
}

// readParams decodes a body into the operation's named parameters: the
// positional "parameters" array (or a JSON string of one), or an object
// whose keys name them (ignoring case). A "data" given as a JSON string is
// decoded too. ExecuteBillQuery's query may also be the body itself.
func readParams(body []byte, names []string) (map[string]any, error) {
	v, err := decode(body)
	if err != nil {
		return nil, err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("body is not a JSON object")
	}
	out := map[string]any{}
	if raw, ok := lookup(obj, "parameters"); ok {
		if s, isText := raw.(string); isText {
			if raw, err = decode([]byte(s)); err != nil {
				return nil, fmt.Errorf("parameters: %w", err)
			}
		}
		arr, ok := raw.([]any)
		if !ok {
			return nil, errors.New("parameters: not an array")
		}
		for i, name := range names {
			if i < len(arr) {
				out[name] = arr[i]
			}
		}
	} else {
		for _, name := range names {
			if v, ok := lookup(obj, name); ok {
				out[name] = v
			}
		}
	}
	if s, ok := out["data"].(string); ok {
		d, err := decode([]byte(s))
		if err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
		out["data"] = d
	}
	if len(names) == 1 && names[0] == "data" {
		if _, ok := out["data"]; !ok {
			out["data"] = obj // the query given as the body itself
		} else if q, ok := out["data"].(map[string]any); ok {
			if _, has := lookup(q, "FormId"); !has {
				if f, ok := lookup(obj, "FormId"); ok {
					q["FormId"] = f
				}
			}
		}
	}
	return out, nil
}

func decode(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the JSON value")
	}
	return v, nil
}

// lookup finds key in obj ignoring case, the exact spelling first.
func lookup(obj map[string]any, key string) (any, bool) {
	if v, ok := obj[key]; ok {
		return v, true
	}
	for k, v := range obj {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// set sets key in obj, replacing a key that differs only in case.
func set(obj map[string]any, key string, v any) {
	for k := range obj {
		if strings.EqualFold(k, key) && k != key {
			delete(obj, k)
		}
	}
	obj[key] = v
}

// text is a scalar's text: strings as they are, numbers as written.
func text(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	default:
		return ""
	}
}

// idOf reads an FID: a number or digits in a string; 0 when absent or zero.
func idOf(v any) (int64, error) {
	t := strings.TrimSpace(text(v))
	if v == nil || t == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("FID %q is not a bill id", t)
	}
	return n, nil
}

// failure is the answer of a failed call: the ResponseStatus object, wrapped
// as ExecuteBillQuery wraps it.
func failure(op string, code int, field, message string) any {
	return wrap(op, status(false, code, []map[string]any{errorEntry(field, message, 0)}, nil))
}

func wrap(op string, rs map[string]any) any {
	res := map[string]any{"Result": map[string]any{"ResponseStatus": rs}}
	if op == OpExecuteBillQuery {
		return [][]any{{res}}
	}
	return res
}

func status(ok bool, code int, errs []map[string]any, done []map[string]any) map[string]any {
	if errs == nil {
		errs = []map[string]any{}
	}
	if done == nil {
		done = []map[string]any{}
	}
	errorCode := 0
	if !ok {
		errorCode = 500
	}
	return map[string]any{
		"ErrorCode": errorCode, "IsSuccess": ok, "Errors": errs, "SuccessEntitys": done,
		"SuccessMessages": []any{}, "MsgCode": code,
	}
}

func errorEntry(field, message string, index int) map[string]any {
	var f any
	if field != "" {
		f = field
	}
	return map[string]any{"FieldName": f, "Message": message, "DIndex": index}
}

var filterRE = regexp.MustCompile(`^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*'((?:[^']|'')*)'\s*$`)

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(encode(v))
}
