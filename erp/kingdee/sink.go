package kingdee

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/mapping"
	"github.com/erpbridge/erpbridge/internal/reason"
)

// Option changes how New builds a Sink.
type Option func(*options)

type options struct {
	transport http.RoundTripper
	wrap      func(http.RoundTripper) http.RoundTripper
	logger    *slog.Logger
}

// WithTransport sends the WebAPI calls through rt (default: a clone of
// http.DefaultTransport keeping one idle connection per session).
func WithTransport(rt http.RoundTripper) Option { return func(o *options) { o.transport = rt } }

// WithTransportWrap sends the WebAPI calls through wrap(rt), rt being the
// transport WithTransport gives or the default: e.g. a transport that
// traces each call.
func WithTransportWrap(wrap func(http.RoundTripper) http.RoundTripper) Option {
	return func(o *options) { o.wrap = wrap }
}

// WithLogger logs session events (logins, lost sessions) to l; the default
// discards them. Nothing logged holds a secret or record content.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// Sink sends records to one Kingdee data centre. It is safe for concurrent use.
type Sink struct {
	cfg    Config
	base   *url.URL
	mapper erp.Mapper
	log    *slog.Logger
	pool   *pool
}

var _ erp.Sink = (*Sink)(nil)

// New checks cfg and returns a Sink that renders records with m into
// Kingdee documents (see the package doc); m is a *mapping.Set loaded for
// erp "kingdee". No call to Kingdee is made until the first Send.
func New(cfg Config, m erp.Mapper, opts ...Option) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("kingdee settings: %w", err)
	}
	if set, ok := m.(*mapping.Set); m == nil || ok && set == nil {
		return nil, errors.New("kingdee: no mapping given")
	}
	if set, ok := m.(*mapping.Set); ok && set.ERP() != erp.KindKingdee {
		return nil, fmt.Errorf("kingdee: mapping %s is for erp %q, not %q", set.File(), set.ERP(), erp.KindKingdee)
	}
	cfg = cfg.withDefaults()
	base, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("KINGDEE_URL: %s", reason.URLError(err))
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.transport == nil {
		o.transport = http.DefaultTransport
		if t, ok := http.DefaultTransport.(*http.Transport); ok {
			t = t.Clone()
			t.MaxIdleConnsPerHost = cfg.MaxSessions // one warm connection per session
			o.transport = t
		}
	}
	if o.wrap != nil {
		o.transport = o.wrap(o.transport)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	client := func() *http.Client {
		return &http.Client{
			Transport: o.transport,
			// A POST must reach Kingdee itself, not a login page it redirects to.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	s := &Sink{cfg: cfg, base: base, mapper: m, log: o.logger, pool: newPool(cfg.MaxSessions, client)}
	return s, nil
}

// bill is a bill found by its number.
type bill struct {
	id     string // FID as Kingdee wrote it
	status string // FDocumentStatus
	state  string // the state_field's value
}

// Send makes Kingdee hold this state of r in the record's one bill; see the
// package doc for what it does and how it classifies failures.
func (s *Sink) Send(ctx context.Context, r erp.Record) (erp.Result, error) {
	number := erp.DocumentNumber(r)
	res := erp.Result{IdempotencyKey: erp.IdempotencyKey(r)}
	if err := r.Validate(); err != nil {
		return res, s.fail(r, false, 0, "invalid record: "+err.Error(), err)
	}
	doc, e := s.render(ctx, r, number)
	if e != nil {
		return res, e
	}
	if doc.Skip != nil {
		s.log.DebugContext(ctx, "kingdee: record not sent, as its mapping says", "record", r.Label())
		return res, nil
	}
	key := res.IdempotencyKey
	if doc.StateField != "" {
		doc.Model[doc.StateField] = quote(key)
	}

	found, e := s.find(ctx, r, doc, number)
	if e != nil {
		return res, e
	}
	if found == nil {
		id, e := s.save(ctx, r, doc, number, "")
		switch {
		case e == nil:
			res.Status, res.Created, res.DocumentID, res.Number = http.StatusOK, true, id, number
			return res, errOrNil(s.finish(ctx, r, doc, number, ""))
		case e.Retryable:
			return res, e
		}
		// Refused: a create raced by another send of this record (a resend
		// after a timeout whose Save landed) finds the bill now.
		again, fe := s.find(ctx, r, doc, number)
		if fe != nil {
			return res, fe
		}
		if again == nil {
			return res, e
		}
		found = again
	}

	res.Status, res.DocumentID, res.Number = http.StatusOK, found.id, number
	holds := doc.StateField != "" && found.state == key
	if !holds {
		if e := s.changeable(r, doc, number, found); e != nil {
			return res, e
		}
		if _, e := s.save(ctx, r, doc, number, found.id); e != nil {
			return res, e
		}
	}
	res.Duplicate = holds
	return res, errOrNil(s.finish(ctx, r, doc, number, found.status))
}

// errOrNil returns e as an error, nil (not a typed nil) when e is nil.
func errOrNil(e *erp.Error) error {
	if e == nil {
		return nil
	}
	return e
}

// render runs the mapping and checks its output.
func (s *Sink) render(ctx context.Context, r erp.Record, number string) (*document, *erp.Error) {
	out, err := s.mapper.Render(ctx, r)
	if err != nil {
		if ctx.Err() != nil {
			return nil, s.fail(r, true, 0, "mapping abandoned: "+ctx.Err().Error(), err)
		}
		if errors.Is(err, mapping.ErrNoMapping) {
			return nil, s.fail(r, false, 0, fmt.Sprintf("the Kingdee mapping%s has no program for kind %q (nor \"*\"); add one, or one that renders {\"skip\": \"...\"}", s.mappingFile(), r.Kind), err)
		}
		return nil, s.fail(r, false, 0, "Kingdee mapping failed: "+reason.OneLine(err.Error()), err)
	}
	doc, err := parseDocument(out, number)
	if err != nil {
		return nil, s.fail(r, false, 0, fmt.Sprintf("the Kingdee mapping%s for kind %q rendered an unusable document: %v", s.mappingFile(), r.Kind, err), err)
	}
	return doc, nil
}

// mappingFile names the mapping's file when the mapper tells it.
func (s *Sink) mappingFile() string {
	if f, ok := s.mapper.(interface{ File() string }); ok && f.File() != "" {
		return " " + f.File()
	}
	return ""
}

// changeable rejects a bill whose status forbids a Save.
func (s *Sink) changeable(r erp.Record, doc *document, number string, b *bill) *erp.Error {
	what := fmt.Sprintf("Kingdee bill %s of %s (FID %s)", number, doc.FormID, b.id)
	switch b.status {
	case "Z", "A", "D", "":
		return nil
	case "B":
		return s.fail(r, false, 0, what+" is submitted for approval (FDocumentStatus B) and accepts no changes: withdraw it (撤销) in Kingdee for erpbridge to update it, or skip this record", nil)
	case "C":
		return s.fail(r, false, 0, what+" is audited (FDocumentStatus C) and accepts no changes: un-audit it (反审核) in Kingdee for erpbridge to update it, or skip this record", nil)
	default:
		return s.fail(r, false, 0, fmt.Sprintf("%s has FDocumentStatus %q, which erpbridge does not know to be changeable; check the bill in Kingdee", what, reason.OneLine(b.status)), nil)
	}
}

// find looks the bill up by its number: nil when there is none.
func (s *Sink) find(ctx context.Context, r erp.Record, doc *document, number string) (*bill, *erp.Error) {
	fields := []string{keyID, keyNumber, keyStatus}
	if doc.StateField != "" {
		fields = append(fields, doc.StateField)
	}
	payload := map[string]any{"data": map[string]any{
		"FormId":       doc.FormID,
		"FieldKeys":    strings.Join(fields, ","),
		"FilterString": keyNumber + "='" + strings.ReplaceAll(number, "'", "''") + "'",
		"OrderString":  "",
		"TopRowCount":  0,
		"StartRow":     0,
		"Limit":        2000,
	}}
	answer, e := s.call(ctx, r, "ExecuteBillQuery", pathQuery, payload)
	if e != nil {
		return nil, e
	}
	rows, st, err := parseRows(answer)
	switch {
	case err != nil:
		return nil, s.unexpected(r, "ExecuteBillQuery", answer, err)
	case st != nil && st.transient():
		return nil, s.fail(r, true, http.StatusOK, fmt.Sprintf("Kingdee ExecuteBillQuery of %s failed (MsgCode %s): %s", doc.FormID, scalar(st.MsgCode), st.messages()), nil)
	case st != nil:
		// A query fails on the settings (form id, field keys), not the record.
		return nil, s.fail(r, false, http.StatusOK, fmt.Sprintf("Kingdee refused ExecuteBillQuery of %s (fields %s): %s", doc.FormID, strings.Join(fields, ","), st.messages()), nil)
	}
	bills := map[string]*bill{}
	for i, row := range rows {
		if len(row) < len(fields) {
			return nil, s.unexpected(r, "ExecuteBillQuery", answer, fmt.Errorf("row %d has %d values for %d fields", i+1, len(row), len(fields)))
		}
		id := scalar(row[0])
		if id == "" || id == "0" {
			return nil, s.unexpected(r, "ExecuteBillQuery", answer, fmt.Errorf("row %d has no FID", i+1))
		}
		if _, seen := bills[id]; !seen {
			b := &bill{id: id, status: strings.TrimSpace(scalar(row[2]))}
			if doc.StateField != "" {
				b.state = scalar(row[3])
			}
			bills[id] = b
		}
	}
	switch len(bills) {
	case 0:
		return nil, nil
	case 1:
		for _, b := range bills {
			return b, nil
		}
	}
	ids := make([]string, 0, len(bills))
	for id := range bills {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return nil, s.fail(r, false, 0, fmt.Sprintf("%d bills of %s carry number %s (FIDs %s); erpbridge keeps exactly one per record: delete or renumber the others in Kingdee", len(bills), doc.FormID, number, strings.Join(ids, ", ")), nil)
}

// save saves the bill: a new one when id is "", else the bill id. It
// returns the bill's FID.
func (s *Sink) save(ctx context.Context, r erp.Record, doc *document, number, id string) (string, *erp.Error) {
	model := maps.Clone(doc.Model)
	if id != "" {
		model[keyID] = idValue(id)
	}
	data := map[string]any{
		"IsDeleteEntry": true, "ValidateFlag": true, "IsVerifyBaseDataField": false,
		"IsAutoSubmitAndAudit": false, "NeedUpDateFields": []string{}, "NeedReturnFields": []string{},
	}
	for k, v := range doc.SaveOptions {
		data[k] = v
	}
	data["Model"] = model
	answer, e := s.call(ctx, r, "Save", pathSave, map[string]any{"formid": doc.FormID, "data": data})
	if e != nil {
		return "", e
	}
	a, err := parseOp(answer)
	if err != nil {
		return "", s.unexpected(r, "Save", answer, err)
	}
	st := a.Result.ResponseStatus
	if !st.IsSuccess {
		verb := "create"
		if id != "" {
			verb = "update of FID " + id
		}
		if st.transient() {
			return "", s.fail(r, true, http.StatusOK, fmt.Sprintf("Kingdee Save (%s) of %s bill %s failed (MsgCode %s): %s", verb, doc.FormID, number, scalar(st.MsgCode), st.messages()), nil)
		}
		return "", s.fail(r, false, http.StatusOK, fmt.Sprintf("Kingdee refused Save (%s) of %s bill %s: %s", verb, doc.FormID, number, st.messages()), nil)
	}
	got, gotNumber := "", ""
	if len(st.SuccessEntitys) > 0 {
		got, gotNumber = scalar(st.SuccessEntitys[0].ID), scalar(st.SuccessEntitys[0].Number)
	}
	if got == "" || got == "0" {
		got = scalar(a.Result.ID)
	}
	if gotNumber == "" {
		gotNumber = scalar(a.Result.Number)
	}
	if got == "" || got == "0" {
		got = id
	}
	if gotNumber != "" && !strings.EqualFold(gotNumber, number) {
		// Every resend would create yet another bill: stop here.
		return got, s.fail(r, false, 0, fmt.Sprintf("Kingdee saved %s bill %s under number %s (FID %s): the bill type's coding rule (编码规则) replaces the number erpbridge gives, so it cannot find the bill again; let the rule accept a number entered by hand, then delete bill %s in Kingdee and retry", doc.FormID, number, reason.OneLine(gotNumber), reason.OneLine(got), reason.OneLine(gotNumber)), nil)
	}
	return got, nil
}

// finish submits and audits the saved bill as the mapping asks, from its
// status before the save ("" for a new bill).
func (s *Sink) finish(ctx context.Context, r erp.Record, doc *document, number, before string) *erp.Error {
	if doc.Submit && before != "B" && before != "C" {
		if e := s.transition(ctx, r, doc, number, "Submit", pathSubmit); e != nil {
			return e
		}
	}
	if doc.Audit && before != "C" {
		if e := s.transition(ctx, r, doc, number, "Audit", pathAudit); e != nil {
			return e
		}
	}
	return nil
}

func (s *Sink) transition(ctx context.Context, r erp.Record, doc *document, number, op, path string) *erp.Error {
	payload := map[string]any{"formid": doc.FormID, "data": map[string]any{"Numbers": []string{number}, "Ids": ""}}
	answer, e := s.call(ctx, r, op, path, payload)
	if e != nil {
		return e
	}
	a, err := parseOp(answer)
	if err != nil {
		return s.unexpected(r, op, answer, err)
	}
	if st := a.Result.ResponseStatus; !st.IsSuccess {
		return s.fail(r, st.transient(), http.StatusOK, fmt.Sprintf("Kingdee saved %s bill %s but refused %s: %s", doc.FormID, number, op, st.messages()), nil)
	}
	return nil
}

// idValue writes an FID back as Kingdee gave it: digits as a number.
func idValue(id string) json.RawMessage {
	for _, c := range id {
		if c < '0' || c > '9' {
			return quote(id)
		}
	}
	return json.RawMessage(id)
}

// unexpected is a retryable error for an answer the connector cannot read;
// the answer is quoted in Reason (Detail) only.
func (s *Sink) unexpected(r erp.Record, op string, answer []byte, err error) *erp.Error {
	return s.fail(r, true, http.StatusOK, fmt.Sprintf("unexpected answer to Kingdee %s (%v): %s", op, err, excerpt(answer, excerptBytes)), err)
}

// fail builds the Sink's errors. status is the HTTP status when reason
// quotes Kingdee's answer (Error() then shows only its fingerprint), and 0
// when reason is the connector's own, shown in full. The secrets are masked
// in reason whatever its source.
func (s *Sink) fail(r erp.Record, retryable bool, status int, reason string, err error) *erp.Error {
	for _, secret := range []string{s.cfg.AppSecret, s.cfg.Password} {
		if secret != "" {
			reason = strings.ReplaceAll(reason, secret, "***")
		}
	}
	if err != nil && s.leaks(err.Error()) {
		err = errors.New("error text withheld: it held a secret")
	}
	return &erp.Error{Record: r.Label(), Status: status, Retryable: retryable, Reason: reason, Err: err}
}

func (s *Sink) leaks(text string) bool {
	for _, secret := range []string{s.cfg.AppSecret, s.cfg.Password} {
		if secret != "" && strings.Contains(text, secret) {
			return true
		}
	}
	return false
}
