// Package kdsim is a stand-in for a Kingdee Cloud Galaxy / K3Cloud (金蝶云星空)
// installation: its WebAPI as erpbridge's Kingdee connector uses it, following
// what the public documents say (see docs/erp-kingdee.md).
//
// It serves the two logins (LoginByAppSecret, ValidateUser) with cookie
// sessions (kdservice-sessionid, ASP.NET_SessionId) that expire when idle,
// and Save, ExecuteBillQuery, View, Submit and Audit of the bills of a few
// forms, kept in memory. Bodies are accepted as the object form and as the
// positional "parameters" array, and "data" as an object or as a JSON
// string. Numbers are kept exactly as sent.
//
// Behaviour where Kingdee's documents are silent, as modelled here:
//   - A session serves one call at a time: a second call on a busy session
//     waits until the first has answered (as ASP.NET's session lock does).
//   - A call with an unknown or expired session answers HTTP 200 with
//     IsSuccess false, MsgCode 1 and "会话信息已丢失，请重新登录"; an
//     ExecuteBillQuery answers that inside a row, [[{"Result": ...}]], as it
//     answers every failure.
//   - The error texts are the simulator's own, in Kingdee's style.
//
// Faults (SetFaults): HTTP 5xx for the next N calls, latency after a call was
// processed (so a client can time out on a Save that landed), and a
// validation failure for chosen bill numbers.
//
// It is a development and test tool: do not expose it.
package kdsim

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// DefaultSessionIdle is how long an unused session lives, as in Kingdee.
const DefaultSessionIdle = 20 * time.Minute

// DefaultFailStatus is the HTTP status of injected failures.
const DefaultFailStatus = 503

// DefaultRejectMessage is the field message of an injected validation failure.
const DefaultRejectMessage = "模拟校验失败：供应商不存在或未审核"

// firstID is the FID of the first bill.
const firstID = 100001

// Operations, the names that end the WebAPI paths (and LatencyOps' values).
const (
	OpLoginByAppSecret = "LoginByAppSecret"
	OpValidateUser     = "ValidateUser"
	OpSave             = "Save"
	OpExecuteBillQuery = "ExecuteBillQuery"
	OpView             = "View"
	OpSubmit           = "Submit"
	OpAudit            = "Audit"
)

// Bill statuses (FDocumentStatus).
const (
	StatusDraft     = "Z" // 暂存
	StatusCreated   = "A" // 创建
	StatusSubmitted = "B" // 审核中
	StatusAudited   = "C" // 已审核
	StatusReaudit   = "D" // 重新审核
)

// Form describes what Save requires of one form's bills.
type Form struct {
	// Required are the field keys a bill must carry with a value (not null,
	// not "", and for base data a non-empty FNumber), matched ignoring case.
	// "FEntity.FKey" requires FEntity to be a non-empty array whose every
	// row carries FKey.
	Required []string `json:"required"`
}

// DefaultForms are the forms erpbridge's default Kingdee mapping writes,
// each with the fields a standard installation requires that the mapping
// fills. (A form's required fields depend on its bill type and on the
// installation; these are the simulator's assumption.)
func DefaultForms() map[string]Form {
	return map[string]Form{
		"AP_Payable": {Required: []string{
			"FBillTypeID", "FDATE", "FSUPPLIERID", "FCURRENCYID", "FSETTLEORGID", "FPAYORGID",
			"FEntityDetail.FPriceQty", "FEntityDetail.FTaxPrice",
		}},
		"SAL_SaleOrder": {Required: []string{
			"FBillTypeID", "FDate", "FSaleOrgId", "FCustId", "FSalerId",
			"FSaleOrderFinance.FSettleCurrId",
			"FSaleOrderEntry.FMaterialId", "FSaleOrderEntry.FUnitID", "FSaleOrderEntry.FQty",
			"FSaleOrderEntry.FDeliveryDate",
		}},
	}
}

// Options configure a Server.
type Options struct {
	// AcctID is the data centre id both logins require.
	AcctID string
	// Username is the user both logins require.
	Username string
	// AppID and AppSecret are what LoginByAppSecret requires; when either is
	// empty that login is refused.
	AppID, AppSecret string
	// Password is what ValidateUser requires; when empty that login is refused.
	Password string
	// SessionIdle is how long an unused session lives (default
	// DefaultSessionIdle).
	SessionIdle time.Duration
	// Forms are the forms whose required fields Save checks (default
	// DefaultForms()); a call on any other form is refused as an unknown
	// business object.
	Forms map[string]Form
	// RenumberBills makes a create ignore the given FBillNo and number the
	// bill itself, as Kingdee does when the bill type's coding rule does not
	// accept numbers entered by hand.
	RenumberBills bool
	// Now is the clock (default time.Now); tests move it to expire sessions.
	Now func() time.Time
}

// Faults are the failures the server injects.
type Faults struct {
	// FailNext answers the next FailNext calls (logins included) with
	// FailStatus and an HTML error page, without processing them.
	FailNext int `json:"fail_next"`
	// FailStatus is the status of those answers, 500 to 599 (default 503).
	FailStatus int `json:"fail_status"`
	// LatencyMS delays the answer of a call by that many milliseconds after
	// the call was processed (a client that times out still finds its Save
	// done). The call keeps its session until it has answered.
	LatencyMS int `json:"latency_ms"`
	// LatencyOps limits the latency to these operations (OpSave, ...);
	// empty means every operation.
	LatencyOps []string `json:"latency_ops"`
	// RejectNumbers are bill numbers whose Save fails validation.
	RejectNumbers []string `json:"reject_numbers"`
	// RejectMessage is that failure's field message (default
	// DefaultRejectMessage).
	RejectMessage string `json:"reject_message"`
}

// Stats counts what the server did since it started.
type Stats struct {
	// Calls is every call, by operation ("unknown" for a path it does not serve).
	Calls map[string]int64 `json:"calls"`
	// Logins is successful logins; LoginFailures refused ones.
	Logins        int64 `json:"logins"`
	LoginFailures int64 `json:"login_failures"`
	// LostSession is calls answered with the lost-session message.
	LostSession int64 `json:"lost_session"`
	// Injected5xx is calls answered with an injected failure.
	Injected5xx int64 `json:"injected_5xx"`
	// Creates and Updates are successful Saves that created or changed a bill.
	Creates int64 `json:"creates"`
	Updates int64 `json:"updates"`
	// SaveFailures is Saves answered IsSuccess false (other than a lost session).
	SaveFailures int64 `json:"save_failures"`
	// DuplicateNumbers is creates refused because the bill number exists.
	DuplicateNumbers int64 `json:"duplicate_numbers"`
	// InFlight is calls being handled now; MaxInFlight the most at once.
	InFlight    int64 `json:"in_flight"`
	MaxInFlight int64 `json:"max_in_flight"`
	// SessionWaits is calls that found their session busy and waited.
	SessionWaits int64 `json:"session_waits"`
	// Sessions is sessions alive now.
	Sessions int `json:"sessions"`
}

// Bill is one bill as the server holds it.
type Bill struct {
	FormID string `json:"form_id"`
	// ID is the bill's FID.
	ID int64 `json:"id"`
	// Number is its FBillNo.
	Number string `json:"number"`
	// Status is its FDocumentStatus.
	Status string `json:"status"`
	// Model is its fields as saved (merged over the saves), numbers exact,
	// without FID, FBillNo and FDocumentStatus.
	Model json.RawMessage `json:"model"`
	// Saves is how many Saves wrote it.
	Saves   int       `json:"saves"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// Server is the simulated K3Cloud installation.
type Server struct {
	opts Options

	mu       sync.Mutex
	faults   Faults
	stats    Stats
	sessions map[string]*session
	bills    map[string]map[string]*bill // form id → upper-cased number → bill
	byID     map[int64]*bill
	nextID   int64
}

type bill struct {
	form    string
	id      int64
	number  string
	status  string
	model   map[string]any // decoded with UseNumber
	saves   int
	created time.Time
	updated time.Time
}

// session is one login's session; lock serialises its calls.
type session struct {
	id       string // kdservice-sessionid
	aspnet   string // ASP.NET_SessionId
	lastUsed time.Time
	lock     chan struct{}
}

// New returns a server with opts' credentials and defaults filled in.
func New(opts Options) *Server {
	if opts.SessionIdle <= 0 {
		opts.SessionIdle = DefaultSessionIdle
	}
	if opts.Forms == nil {
		opts.Forms = DefaultForms()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Server{
		opts:     opts,
		stats:    Stats{Calls: map[string]int64{}},
		sessions: map[string]*session{},
		bills:    map[string]map[string]*bill{},
		byID:     map[int64]*bill{},
		nextID:   firstID,
	}
}

// SetFaults replaces the faults in force.
func (s *Server) SetFaults(f Faults) error {
	switch {
	case f.FailNext < 0:
		return errors.New("fail_next: must not be negative")
	case f.FailStatus != 0 && (f.FailStatus < 500 || f.FailStatus > 599):
		return errors.New("fail_status: must be a 5xx status")
	case f.LatencyMS < 0 || f.LatencyMS > 600_000:
		return errors.New("latency_ms: must be between 0 and 600000")
	}
	for _, op := range f.LatencyOps {
		if !slices.Contains(operations, op) {
			return fmt.Errorf("latency_ops: unknown operation %q (one of %s)", op, strings.Join(operations, ", "))
		}
	}
	if f.FailStatus == 0 {
		f.FailStatus = DefaultFailStatus
	}
	if f.RejectMessage == "" {
		f.RejectMessage = DefaultRejectMessage
	}
	f.LatencyOps = slices.Clone(f.LatencyOps)
	f.RejectNumbers = slices.Clone(f.RejectNumbers)
	s.mu.Lock()
	s.faults = f
	s.mu.Unlock()
	return nil
}

// Faults returns the faults in force (FailNext counts down as calls fail).
func (s *Server) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.faults
	f.LatencyOps = slices.Clone(f.LatencyOps)
	f.RejectNumbers = slices.Clone(f.RejectNumbers)
	return f
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Calls = maps.Clone(s.stats.Calls)
	st.Sessions = s.liveSessionsLocked()
	return st
}

// ExpireSessions ends every session now, as an idle timeout or a server
// restart would; it returns how many there were.
func (s *Server) ExpireSessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.sessions)
	clear(s.sessions)
	return n
}

// Bills returns every bill, in order of creation.
func (s *Server) Bills() []Bill {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Bill, 0, len(s.byID))
	for _, b := range s.byID {
		out = append(out, b.export())
	}
	slices.SortFunc(out, func(a, b Bill) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Bill returns the bill of formID numbered number.
func (s *Server) Bill(formID, number string) (Bill, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bills[formID][strings.ToUpper(number)]
	if b == nil {
		return Bill{}, false
	}
	return b.export(), true
}

// SetStatus sets a bill's FDocumentStatus, as a user in Kingdee would by
// submitting, auditing or un-auditing it.
func (s *Server) SetStatus(formID, number, status string) error {
	switch status {
	case StatusDraft, StatusCreated, StatusSubmitted, StatusAudited, StatusReaudit:
	default:
		return fmt.Errorf("status %q: must be one of Z, A, B, C, D", status)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bills[formID][strings.ToUpper(number)]
	if b == nil {
		return fmt.Errorf("no bill %s of %s", number, formID)
	}
	b.status = status
	b.updated = s.opts.Now()
	return nil
}

func (b *bill) export() Bill {
	return Bill{FormID: b.form, ID: b.id, Number: b.number, Status: b.status, Model: encode(b.model),
		Saves: b.saves, Created: b.created, Updated: b.updated}
}

// liveSessionsLocked drops expired sessions and counts the rest.
func (s *Server) liveSessionsLocked() int {
	now := s.opts.Now()
	for id, ss := range s.sessions {
		if now.Sub(ss.lastUsed) > s.opts.SessionIdle {
			delete(s.sessions, id)
		}
	}
	return len(s.sessions)
}

// encode renders v as compact JSON without HTML escaping; numbers decoded as
// json.Number keep their digits.
func encode(v any) json.RawMessage {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return json.RawMessage(`null`)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
