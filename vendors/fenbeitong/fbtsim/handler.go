package fbtsim

import (
	"crypto/md5" // Fenbeitong's signing rule, not a choice of ours
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/erpbridge/erpbridge/vendors/lenient"
)

// ServeHTTP answers the token, list and detail endpoints; any other path is
// 404. Every request is counted and recorded (Calls, Requests).
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	arrived := time.Now()
	ep := s.endpoint(r.URL.Path)

	s.mu.Lock()
	s.calls[ep]++
	if s.failNext > 0 {
		s.failNext--
		status := s.failStatus
		s.requests = append(s.requests, Request{Endpoint: ep, At: arrived, HTTPStatus: status, Code: -1})
		s.mu.Unlock()
		http.Error(w, "simulated gateway failure", status)
		return
	}
	s.mu.Unlock()

	status, a := s.answer(ep, w, r)
	s.mu.Lock()
	code := a.Code
	if status != http.StatusOK {
		code = -1
	}
	a.RequestID = s.requestID()
	s.requests = append(s.requests, Request{Endpoint: ep, At: arrived, HTTPStatus: status, Code: code, Msg: a.Msg})
	s.mu.Unlock()

	if status != http.StatusOK {
		http.Error(w, a.Msg, status)
		return
	}
	body, err := json.Marshal(a)
	if err != nil {
		http.Error(w, "encode answer: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	_, _ = w.Write(body)
}

func (s *Sim) endpoint(path string) Endpoint {
	switch path {
	case s.opts.TokenPath:
		return EndpointToken
	case s.opts.ListPath:
		return EndpointList
	case s.opts.DetailPath:
		return EndpointDetail
	default:
		return EndpointOther
	}
}

// answer handles one request: an HTTP status and, for 200, the envelope
// (for other statuses only its Msg, sent as plain text).
func (s *Sim) answer(ep Endpoint, w http.ResponseWriter, r *http.Request) (int, answer) {
	if ep == EndpointOther {
		return http.StatusNotFound, answer{Msg: "no such endpoint"}
	}
	if r.Method != http.MethodPost {
		return http.StatusMethodNotAllowed, answer{Msg: "POST only"}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRequestBytes))
	if err != nil {
		return http.StatusRequestEntityTooLarge, answer{Msg: "body too large or unreadable"}
	}
	if ep == EndpointToken {
		return http.StatusOK, s.token(r.Header.Get("Content-Type"), body)
	}
	data, refusal := s.verify(r.Header.Get("Content-Type"), body)
	if refusal != "" {
		return http.StatusOK, failure(refusal)
	}
	if ep == EndpointList {
		return http.StatusOK, s.list(data)
	}
	return http.StatusOK, s.detail(data)
}

// token answers the token endpoint: a JSON body {"app_id","app_key"} (a form
// with the same fields is accepted too).
func (s *Sim) token(contentType string, body []byte) answer {
	var creds struct {
		AppID  string `json:"app_id"`
		AppKey string `json:"app_key"`
	}
	if isForm(contentType) {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return failure("参数格式错误")
		}
		creds.AppID, creds.AppKey = form.Get("app_id"), form.Get("app_key")
	} else if err := json.Unmarshal(body, &creds); err != nil {
		return failure("参数格式错误")
	}
	switch {
	case creds.AppID == "" || creds.AppKey == "":
		return failure("app_id和app_key不能为空")
	case !equal(creds.AppID, s.opts.AppID) || !equal(creds.AppKey, s.opts.AppKey):
		return failure("app_id或app_key错误")
	}
	s.mu.Lock()
	token, expireTime := s.issueToken()
	s.mu.Unlock()
	return success(map[string]any{"access_token": token, "expire_time": expireTime})
}

// verify checks a signed call: the form fields, the token, the sign and the
// employee; it returns the data object, or Fenbeitong's msg refusing the
// call.
func (s *Sim) verify(contentType string, body []byte) (map[string]json.RawMessage, string) {
	if !isForm(contentType) {
		return nil, "Content-Type须为application/x-www-form-urlencoded"
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, "参数格式错误"
	}
	for _, field := range []string{"access_token", "timestamp", "sign", "data"} {
		if strings.TrimSpace(form.Get(field)) == "" {
			return nil, field + "不能为空"
		}
	}
	s.mu.Lock()
	refusal := s.checkToken(form.Get("access_token"))
	s.mu.Unlock()
	if refusal != "" {
		return nil, refusal
	}
	ts := form.Get("timestamp")
	if len(ts) != 13 || strings.Trim(ts, "0123456789") != "" {
		return nil, "timestamp格式错误"
	}
	sum := md5.Sum([]byte("timestamp=" + ts + "&data=" + form.Get("data") + "&sign_key=" + s.opts.SignKey))
	if !equal(form.Get("sign"), hex.EncodeToString(sum[:])) {
		return nil, "sign error"
	}
	if strings.TrimSpace(form.Get("employee_id")) == "" {
		return nil, "employee_id不能为空"
	}
	if t := form.Get("employee_type"); t != "" && t != "0" && t != "1" {
		return nil, "employee_type错误"
	}
	var data map[string]json.RawMessage
	if err := json.Unmarshal([]byte(form.Get("data")), &data); err != nil || data == nil {
		return nil, "data格式错误"
	}
	return data, ""
}

// list answers a page of the car orders the data selects.
func (s *Sim) list(data map[string]json.RawMessage) answer {
	index, msg := intField(data, "page_index", 1)
	if msg != "" {
		return failure(msg)
	}
	size, msg := intField(data, "page_size", DefaultPageSize)
	if msg != "" {
		return failure(msg)
	}
	status, msg := intField(data, "status", 0)
	if msg != "" {
		return failure(msg)
	}
	switch {
	case index < 1:
		return failure("page_index须大于0")
	case size < 1:
		return failure("page_size须大于0")
	case size > MaxPageSize:
		return failure("page_size不能超过500")
	}
	begin, msg := dateField(data, "create_time_begin")
	if msg != "" {
		return failure(msg)
	}
	end, msg := dateField(data, "create_time_end")
	if msg := required("create_time_end", end, msg); msg != "" {
		return failure(msg)
	}
	orderID, msg := stringField(data, "order_id")
	if msg != "" {
		return failure(msg)
	}

	s.mu.Lock()
	selected := s.selectOrders(func(o *order) bool {
		day := o.created.In(lenient.China).Format(time.DateOnly)
		return (begin == "" || day >= begin) && day <= end &&
			(status == 0 || o.status() == int64(status)) &&
			(orderID == "" || o.id == orderID)
	})
	s.mu.Unlock()

	page := pageData{
		TotalCount: len(selected),
		PageIndex:  index,
		PageSize:   size,
		TotalPages: (len(selected) + size - 1) / size,
		Results:    []json.RawMessage{},
	}
	if from := (index - 1) * size; from < len(selected) {
		page.Results = selected[from:min(from+size, len(selected))]
	}
	if s.opts.ListSummary {
		for i, r := range page.Results {
			page.Results[i] = summary(r)
		}
	}
	return success(page)
}

// summary is an order as a list that leaves the details to the detail call
// gives it: order_info without its price lines, nothing else.
func summary(order json.RawMessage) json.RawMessage {
	var o struct {
		OrderInfo map[string]json.RawMessage `json:"order_info"`
	}
	if json.Unmarshal(order, &o) != nil {
		return order
	}
	delete(o.OrderInfo, "price_detail_info")
	b, err := json.Marshal(map[string]any{"order_info": o.OrderInfo})
	if err != nil {
		return order
	}
	return b
}

// detail answers one car order by its id.
func (s *Sim) detail(data map[string]json.RawMessage) answer {
	orderID, msg := stringField(data, "order_id")
	if msg := required("order_id", orderID, msg); msg != "" {
		return failure(msg)
	}
	s.mu.Lock()
	o, ok := s.orders[orderID]
	var body json.RawMessage
	if ok {
		body = o.body
	}
	s.mu.Unlock()
	if !ok {
		return failure("订单不存在")
	}
	return success(body)
}

// intField reads an integer field (a number or a string holding one), def
// when absent.
func intField(data map[string]json.RawMessage, key string, def int) (int, string) {
	raw, ok := data[key]
	if !ok {
		return def, ""
	}
	var n lenient.Int
	if err := n.UnmarshalJSON(raw); err != nil {
		return 0, key + "格式错误"
	}
	if !n.Valid {
		return def, ""
	}
	if n.Value < -1<<31 || n.Value > 1<<31-1 {
		return 0, key + "格式错误"
	}
	return int(n.Value), ""
}

// stringField reads a string field, "" when absent.
func stringField(data map[string]json.RawMessage, key string) (string, string) {
	raw, ok := data[key]
	if !ok || string(raw) == "null" {
		return "", ""
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", key + "格式错误"
	}
	return strings.TrimSpace(v), ""
}

// required is the message for a field key read as v with message msg:
// msg, or "不能为空" (must not be empty) when the field is empty.
func required(key, v, msg string) string {
	if msg == "" && v == "" {
		return key + "不能为空"
	}
	return msg
}

// dateField reads a date field "2006-01-02", "" when absent.
func dateField(data map[string]json.RawMessage, key string) (string, string) {
	v, msg := stringField(data, key)
	if msg != "" || v == "" {
		return "", msg
	}
	if _, err := time.Parse(time.DateOnly, v); err != nil {
		return "", key + "格式错误，须为yyyy-MM-dd"
	}
	return v, ""
}

func isForm(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/x-www-form-urlencoded"
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
