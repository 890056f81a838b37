package kingdee

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/erpbridge/erpbridge/internal/reason"
)

// lostSessionText is in the message of a call whose session Kingdee no
// longer knows ("会话信息已丢失，请重新登录").
const lostSessionText = "会话信息已丢失"

// MsgCode values of ResponseStatus from Kingdee's published list (the
// connector's classification, see classify).
const (
	msgContextLost     = 1  // 上下文丢失: the session is gone
	msgNetworkConflict = 13 // 网控冲突: the bill is locked by another user's edit
	msgCallLimit       = 14 // 调用限制: too many calls
)

// status is Result.ResponseStatus of an answer.
type status struct {
	IsSuccess      bool         `json:"IsSuccess"`
	ErrorCode      any          `json:"ErrorCode"`
	MsgCode        any          `json:"MsgCode"`
	Errors         []fieldError `json:"Errors"`
	SuccessEntitys []entity     `json:"SuccessEntitys"`
}

type fieldError struct {
	FieldName any `json:"FieldName"`
	Message   any `json:"Message"`
	DIndex    any `json:"DIndex"`
}

type entity struct {
	ID     any `json:"Id"`
	Number any `json:"Number"`
}

// opAnswer is the answer of Save, Submit and Audit.
type opAnswer struct {
	Result *struct {
		ResponseStatus *status `json:"ResponseStatus"`
		ID             any     `json:"Id"`
		Number         any     `json:"Number"`
	} `json:"Result"`
}

func (s *status) msgCode() int {
	n, err := strconv.Atoi(strings.TrimSpace(scalar(s.MsgCode)))
	if err != nil {
		return 0
	}
	return n
}

// lost says whether s is Kingdee's answer to a call whose session is gone.
func (s *status) lost() bool {
	if s == nil || s.IsSuccess {
		return false
	}
	if s.msgCode() == msgContextLost {
		return true
	}
	for _, e := range s.Errors {
		if strings.Contains(scalar(e.Message), lostSessionText) {
			return true
		}
	}
	return false
}

// transient says whether a failure is worth repeating later: a bill locked
// by someone's edit in Kingdee (network control) or a call limit.
func (s *status) transient() bool {
	c := s.msgCode()
	return c == msgNetworkConflict || c == msgCallLimit
}

// messages is the answer's field messages on one line: "FSUPPLIERID: 供应商
// 是必录项; row 2: ...". It quotes the ERP and so goes to Reason only.
func (s *status) messages() string {
	var parts []string
	for _, e := range s.Errors {
		msg := scalar(e.Message)
		if f := scalar(e.FieldName); f != "" {
			msg = f + ": " + msg
		}
		if d := scalar(e.DIndex); d != "" && d != "0" {
			msg = "bill " + d + ": " + msg
		}
		parts = append(parts, msg)
	}
	if len(parts) == 0 {
		return fmt.Sprintf("no message (MsgCode %s, ErrorCode %s)", orNone(scalar(s.MsgCode)), orNone(scalar(s.ErrorCode)))
	}
	return reason.OneLine(strings.Join(parts, "; "))
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// parseOp reads the answer of Save, Submit or Audit.
func parseOp(body []byte) (*opAnswer, error) {
	var a opAnswer
	if err := decodeStrict(body, &a); err != nil {
		return nil, err
	}
	if a.Result == nil || a.Result.ResponseStatus == nil {
		return nil, errors.New("no Result.ResponseStatus")
	}
	return &a, nil
}

// parseRows reads an ExecuteBillQuery answer: the rows, or the failure that
// Kingdee answers as [[{"Result": {"ResponseStatus": ...}}]] (or as an
// object). Exactly one of rows and st is set when err is nil.
func parseRows(body []byte) (rows [][]any, st *status, err error) {
	var v any
	if err := decodeStrict(body, &v); err != nil {
		return nil, nil, err
	}
	if st := failureIn(v); st != nil {
		return nil, st, nil
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, nil, errors.New("neither an array of rows nor a Result")
	}
	rows = make([][]any, 0, len(arr))
	for i, r := range arr {
		row, ok := r.([]any)
		if !ok {
			return nil, nil, fmt.Errorf("row %d is not an array", i+1)
		}
		rows = append(rows, row)
	}
	return rows, nil, nil
}

// failureIn finds a ResponseStatus in an object or in a query's first row.
func failureIn(v any) *status {
	if arr, ok := v.([]any); ok && len(arr) > 0 {
		if row, ok := arr[0].([]any); ok && len(row) > 0 {
			v = row[0]
		}
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	res, ok := field(obj, "Result").(map[string]any)
	if !ok {
		return nil
	}
	rs, ok := field(res, "ResponseStatus").(map[string]any)
	if !ok {
		return nil
	}
	raw, err := json.Marshal(rs)
	if err != nil {
		return nil
	}
	var st status
	if json.Unmarshal(raw, &st) != nil {
		return nil
	}
	return &st
}

// field is obj's value of key, matched ignoring case as Kingdee does.
func field(obj map[string]any, key string) any {
	if v, ok := obj[key]; ok {
		return v
	}
	for k, v := range obj {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}

// lostIn says whether any answer body is the lost-session answer.
func lostIn(body []byte) bool {
	if !bytes.Contains(body, []byte("ResponseStatus")) {
		return false
	}
	var v any
	if decodeStrict(body, &v) != nil {
		return false
	}
	return failureIn(v).lost()
}

// decodeStrict decodes one JSON value with exact numbers and nothing after it.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// scalar is a JSON scalar's text: strings as they are, numbers as written,
// "" for null and anything else.
func scalar(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		if v {
			return "true"
		}
		return "false"
	}
	return ""
}

// excerpt is at most n bytes of an answer on one line, cut on a rune boundary.
func excerpt(body []byte, n int) string { return reason.Clip(reason.OneLine(string(body)), n) }
