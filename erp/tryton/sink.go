package tryton

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/mapping"
)

// Option changes how New builds a Sink.
type Option func(*options)

type options struct {
	transport http.RoundTripper
}

// WithTransport sends the JSON-RPC calls through rt (default:
// http.DefaultTransport), e.g. one that traces each call.
func WithTransport(rt http.RoundTripper) Option {
	return func(o *options) { o.transport = rt }
}

// Sink writes records into Tryton documents (see the package doc).
type Sink struct {
	rpc    *rpc
	mapper erp.Mapper

	mu     sync.Mutex
	fields map[string]map[string]field // fields_get per model
}

var _ erp.Sink = (*Sink)(nil)

// New returns a Sink for the Tryton database cfg names, writing what m
// renders; m is a *mapping.Set (mapping.Load(erp.KindTryton, path)). It
// checks cfg but makes no call: the first Send logs in.
func New(cfg Config, m erp.Mapper, opts ...Option) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if set, ok := m.(*mapping.Set); m == nil || (ok && set == nil) {
		return nil, errors.New("tryton: no mapping")
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	return &Sink{
		rpc:    newRPC(cfg.withDefaults(), o.transport),
		mapper: m,
		fields: map[string]map[string]field{},
	}, nil
}

// field is what fields_get says of one field.
type field struct {
	Type          string   `json:"type"`
	Relation      string   `json:"relation"`
	RelationField string   `json:"relation_field"`
	Readonly      bool     `json:"readonly"`
	OnChange      []string `json:"on_change"`
	OnChangeWith  []string `json:"on_change_with"`
}

func (f field) toMany() bool { return f.Type == "one2many" || f.Type == "many2many" }

// rejection is a refusal of this connector's own making (no Tryton answer
// quoted): a mapping that does not fit the model, a document that may no
// longer change.
type rejection struct{ reason string }

func (e *rejection) Error() string { return e.reason }

func reject(format string, args ...any) error {
	return &rejection{reason: fmt.Sprintf(format, args...)}
}

// Send makes Tryton hold r: it renders r, finds the document whose key
// field (reference) is erp.DocumentNumber(r), creates it when absent and
// writes it when it is still draft. A document in any other state, a
// mapping that does not fit, and a Tryton validation error are rejections;
// transport errors, 5xx, timeouts and concurrency errors are retryable.
func (s *Sink) Send(ctx context.Context, r erp.Record) (erp.Result, error) {
	number := erp.DocumentNumber(r)
	res := erp.Result{IdempotencyKey: erp.IdempotencyKey(r), Number: number}
	if err := r.Validate(); err != nil {
		return res, &erp.Error{Record: r.Label(), Reason: "invalid record: " + err.Error(), Err: err}
	}
	raw, err := s.mapper.Render(ctx, r)
	if err != nil {
		if ctx.Err() != nil {
			return res, &erp.Error{Record: r.Label(), Retryable: true, Reason: "mapping abandoned: " + ctx.Err().Error(), Err: ctx.Err()}
		}
		return res, &erp.Error{Record: r.Label(), Reason: mappingReason(r, err), Err: err}
	}
	doc, err := parseDocument(raw)
	if err != nil {
		return res, &erp.Error{Record: r.Label(), Reason: err.Error()}
	}
	w := &writer{s: s, ctx: ctx, doc: doc, number: number, refs: map[string]int64{}, defs: map[string]map[string]any{}}
	id, created, err := w.run()
	if err != nil {
		return res, s.failure(r, err)
	}
	res.Status = http.StatusOK
	res.DocumentID = strconv.FormatInt(id, 10)
	res.Created = created
	return res, nil
}

// failure turns an error of a send into the *erp.Error the workflow
// classifies. Tryton's own messages keep Status 200 (or the HTTP status),
// so erp.Error's Error() gives only their fingerprint.
func (s *Sink) failure(r erp.Record, err error) *erp.Error {
	var ce *callError
	if errors.As(err, &ce) {
		return &erp.Error{
			Record:     r.Label(),
			Status:     ce.Status,
			Retryable:  ce.Retryable,
			Reason:     err.Error(),
			RetryAfter: ce.RetryAfter,
			Err:        ce.Err,
		}
	}
	var rj *rejection
	if errors.As(err, &rj) {
		return &erp.Error{Record: r.Label(), Reason: err.Error()}
	}
	return &erp.Error{Record: r.Label(), Retryable: true, Reason: err.Error(), Err: err}
}

// writer carries one Send's work.
type writer struct {
	s      *Sink
	ctx    context.Context
	doc    *document
	number string
	// refs caches the ids of refs resolved in this send, by model and search.
	refs map[string]int64
	// ctxt is the context of every model call of this send.
	ctxt map[string]any
	// defs caches the default values of each model, asked once per send:
	// default_get reads only the model's field names and ctxt.
	defs map[string]map[string]any
}

func (w *writer) run() (int64, bool, error) {
	d := w.doc
	var err error
	if w.ctxt, err = w.s.rpc.context(w.ctx, d.Context); err != nil {
		return 0, false, err
	}
	fields, err := w.fieldsOf(d.Model)
	if err != nil {
		return 0, false, err
	}
	if _, ok := fields[d.Key]; !ok {
		return 0, false, reject("model %s has no field %q to hold the record's number", d.Model, d.Key)
	}
	if v, ok := d.Values[d.Key]; ok && v != w.number {
		return 0, false, reject("the mapping sets %s.%s to something other than the record's number %s", d.Model, d.Key, w.number)
	}
	var lineField field
	if d.Lines != nil {
		lf, ok := fields[d.Lines.Field]
		if !ok || lf.Type != "one2many" {
			return 0, false, reject("model %s has no one2many field %q for the lines", d.Model, d.Lines.Field)
		}
		if d.Lines.Model == "" {
			d.Lines.Model = lf.Relation
		}
		if d.Lines.Model != lf.Relation {
			return 0, false, reject("%s.%s holds %s, not %s", d.Model, d.Lines.Field, lf.Relation, d.Lines.Model)
		}
		lineField = lf
	}

	// Find the document first: one that may no longer change is refused
	// before anything else is written.
	existing, err := w.find(fields)
	if err != nil {
		return 0, false, err
	}

	values, full, err := w.record(d.Model, fields, d.Values, d.Refs, d.OnChange, d.OnChangeWith, "", nil)
	if err != nil {
		return 0, false, err
	}
	values[d.Key] = w.number
	full[d.Key] = w.number

	var lines []map[string]any
	if d.Lines != nil {
		lfields, err := w.fieldsOf(d.Lines.Model)
		if err != nil {
			return 0, false, err
		}
		for i, l := range d.Lines.Items {
			lv, _, err := w.record(d.Lines.Model, lfields, l.Values, l.Refs, l.OnChange, l.OnChangeWith, lineField.RelationField, full)
			if err != nil {
				return 0, false, fmt.Errorf("line %d: %w", i+1, err)
			}
			delete(lv, lineField.RelationField)
			lines = append(lines, lv)
		}
	}

	if existing == nil {
		if d.Lines != nil {
			values[d.Lines.Field] = []any{[]any{"create", nonNil(lines)}}
		}
		raw, err := w.s.rpc.call(w.ctx, "model."+d.Model+".create", []any{values}, w.ctxt)
		if err != nil {
			return 0, false, fmt.Errorf("create %s %s: %w", d.Model, w.number, err)
		}
		var ids []int64
		if err := json.Unmarshal(raw, &ids); err != nil || len(ids) != 1 {
			return 0, false, &callError{Method: "model." + d.Model + ".create", Status: http.StatusOK, Retryable: true, Reason: "answer is not one new id"}
		}
		return ids[0], true, nil
	}

	if d.Lines != nil {
		var actions []any
		if len(existing.lines) > 0 {
			actions = append(actions, []any{"delete", existing.lines})
		}
		actions = append(actions, []any{"create", nonNil(lines)})
		values[d.Lines.Field] = actions
	}
	if _, err := w.s.rpc.call(w.ctx, "model."+d.Model+".write", []any{existing.id}, values, w.ctxt); err != nil {
		return 0, false, fmt.Errorf("write %s %d (%s): %w", d.Model, existing.id, w.number, err)
	}
	return existing.id, false, nil
}

func nonNil(lines []map[string]any) []map[string]any {
	if lines == nil {
		return []map[string]any{}
	}
	return lines
}

// found is the document a search by number found.
type found struct {
	id    int64
	lines []int64
}

// find looks the document up by its number, in any state and active or
// not. None: nil. One that is not draft: a rejection naming its state. More
// than one: a rejection naming their ids, for a person to settle.
func (w *writer) find(fields map[string]field) (*found, error) {
	d := w.doc
	names := []string{"id"}
	_, hasState := fields["state"]
	if hasState {
		names = append(names, "state")
	}
	if d.Lines != nil {
		names = append(names, d.Lines.Field)
	}
	method := "model." + d.Model + ".search_read"
	raw, err := w.s.rpc.call(w.ctx, method,
		[]any{[]any{d.Key, "=", w.number}}, 0, 3, []any{[]any{"id", "ASC"}}, names, w.with("active_test", false))
	if err != nil {
		return nil, fmt.Errorf("find %s %s: %w", d.Model, w.number, err)
	}
	var rows []map[string]json.RawMessage
	if err := decodeNumbers(raw, &rows); err != nil {
		return nil, &callError{Method: method, Status: http.StatusOK, Retryable: true, Reason: "unreadable answer: " + err.Error()}
	}
	if len(rows) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(rows))
	for i, row := range rows {
		if err := json.Unmarshal(row["id"], &ids[i]); err != nil {
			return nil, &callError{Method: method, Status: http.StatusOK, Retryable: true, Reason: "answer without ids"}
		}
	}
	if len(rows) > 1 {
		return nil, reject("%d documents of %s have %s %s (ids %v): one must go before this record can be written",
			len(rows), d.Model, d.Key, w.number, ids)
	}
	f := &found{id: ids[0]}
	if hasState {
		var state string
		if err := json.Unmarshal(rows[0]["state"], &state); err != nil {
			return nil, &callError{Method: method, Status: http.StatusOK, Retryable: true, Reason: "answer without a state"}
		}
		if state != "draft" {
			return nil, reject("%s %d (%s %s) is in state %q: only a draft document is changed, so this state of the record is not written",
				d.Model, f.id, d.Key, w.number, state)
		}
	}
	if d.Lines != nil {
		if raw := rows[0][d.Lines.Field]; len(raw) > 0 && string(raw) != "null" {
			if err := json.Unmarshal(raw, &f.lines); err != nil {
				return nil, &callError{Method: method, Status: http.StatusOK, Retryable: true, Reason: "unreadable line ids"}
			}
		}
	}
	return f, nil
}

// record builds the values of one record of model: the mapping's values
// in Tryton's types, refs resolved to ids, then what the named on_change
// and on_change_with methods fill among the fields the mapping left out.
// For a line, parentField is the many2one to the document and parent the
// document's values, given to on_change methods as "_parent_<field>.<name>".
// It returns the values to write and all the values known (defaults too).
func (w *writer) record(model string, fields map[string]field, in map[string]any, refs map[string]ref,
	onChange, onChangeWith []string, parentField string, parent map[string]any,
) (values, full map[string]any, err error) {
	values = map[string]any{}
	for name, v := range in {
		f, ok := fields[name]
		if !ok {
			return nil, nil, reject("the mapping sets field %q, which %s does not have", name, model)
		}
		ev, err := encodeField(f, v)
		if err != nil {
			return nil, nil, reject("field %s.%s: %v", model, name, err)
		}
		values[name] = ev
	}
	for name, rf := range refs {
		f, ok := fields[name]
		if !ok || (f.Type != "many2one" && f.Type != "one2one") {
			return nil, nil, reject("ref %q: %s has no many2one field of that name", name, model)
		}
		if f.Relation != "" && f.Relation != rf.Model {
			return nil, nil, reject("ref %q: %s.%s relates to %s, not %s", name, model, name, f.Relation, rf.Model)
		}
		id, err := w.resolve(name, rf)
		if err != nil {
			return nil, nil, err
		}
		values[name] = id
	}
	for _, name := range slices.Concat(onChange, onChangeWith) {
		if _, ok := fields[name]; !ok {
			return nil, nil, reject("on_change of %q: %s has no such field", name, model)
		}
	}
	if len(onChange)+len(onChangeWith) == 0 {
		return values, values, nil
	}

	full, err = w.defaults(model, fields)
	if err != nil {
		return nil, nil, err
	}
	for k, v := range values {
		full[k] = v
	}
	if parentField != "" {
		full[parentField] = nil
	}
	apply := func(changes map[string]json.RawMessage) {
		for k, v := range changes {
			f, ok := fields[k]
			if !ok || strings.Contains(k, ".") || f.Readonly || f.toMany() {
				continue
			}
			if _, set := values[k]; set {
				continue
			}
			values[k] = v
			full[k] = v
		}
	}
	for _, name := range onChange {
		args := depends(fields[name].OnChange, name, full, parentField, parent)
		raw, err := w.s.rpc.call(w.ctx, "model."+model+".on_change", args, []any{name}, w.ctxt)
		if err != nil {
			return nil, nil, fmt.Errorf("on_change of %s.%s: %w", model, name, err)
		}
		var changes []map[string]json.RawMessage
		if err := json.Unmarshal(raw, &changes); err != nil {
			return nil, nil, &callError{Method: "model." + model + ".on_change", Status: http.StatusOK, Retryable: true, Reason: "unreadable changes"}
		}
		for _, c := range changes {
			apply(c)
		}
	}
	for _, name := range onChangeWith {
		args := depends(fields[name].OnChangeWith, "", full, parentField, parent)
		raw, err := w.s.rpc.call(w.ctx, "model."+model+".on_change_with", args, []any{name}, w.ctxt)
		if err != nil {
			return nil, nil, fmt.Errorf("on_change_with of %s.%s: %w", model, name, err)
		}
		var changes map[string]json.RawMessage
		if err := json.Unmarshal(raw, &changes); err != nil {
			return nil, nil, &callError{Method: "model." + model + ".on_change_with", Status: http.StatusOK, Retryable: true, Reason: "unreadable changes"}
		}
		apply(changes)
	}
	return values, full, nil
}

// depends picks the values an on_change method reads (its field's
// dependencies), as the Tryton client sends them: a record's own fields by
// name and the document's as "_parent_<field>.<name>".
func depends(deps []string, self string, full map[string]any, parentField string, parent map[string]any) map[string]any {
	args := map[string]any{}
	if self != "" {
		if v, ok := full[self]; ok {
			args[self] = v
		}
	}
	for _, dep := range deps {
		if rest, ok := strings.CutPrefix(dep, "_parent_"); ok {
			pf, name, ok := strings.Cut(rest, ".")
			if !ok || pf != parentField || parent == nil {
				continue
			}
			if v, ok := parent[name]; ok {
				args[dep] = v
			}
			continue
		}
		if dep == "id" {
			continue
		}
		if v, ok := full[dep]; ok {
			args[dep] = v
		}
	}
	return args
}

// defaults are the model's default values for a new record
// (default_get), in Tryton's form: a copy the caller may change, of the
// answer asked once per send.
func (w *writer) defaults(model string, fields map[string]field) (map[string]any, error) {
	if defs, ok := w.defs[model]; ok {
		return maps.Clone(defs), nil
	}
	names := make([]string, 0, len(fields))
	for name, f := range fields {
		if !f.toMany() {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	raw, err := w.s.rpc.call(w.ctx, "model."+model+".default_get", names, false, w.ctxt)
	if err != nil {
		return nil, fmt.Errorf("defaults of %s: %w", model, err)
	}
	var defs map[string]json.RawMessage
	if err := json.Unmarshal(raw, &defs); err != nil {
		return nil, &callError{Method: "model." + model + ".default_get", Status: http.StatusOK, Retryable: true, Reason: "unreadable defaults"}
	}
	out := make(map[string]any, len(defs))
	for k, v := range defs {
		if !strings.Contains(k, ".") {
			out[k] = v
		}
	}
	w.defs[model] = out
	return maps.Clone(out), nil
}

// resolve returns the id of the record rf names: the lowest id its search
// finds, active or not, or a new one from rf.Create.
func (w *writer) resolve(name string, rf ref) (int64, error) {
	key, err := json.Marshal([]any{rf.Model, rf.Search})
	if err != nil {
		return 0, reject("ref %q: its search cannot be encoded: %v", name, err)
	}
	if id, ok := w.refs[string(key)]; ok {
		return id, nil
	}
	search := func() (int64, bool, error) {
		raw, err := w.s.rpc.call(w.ctx, "model."+rf.Model+".search", rf.Search, 0, 1, []any{[]any{"id", "ASC"}}, w.with("active_test", false))
		if err != nil {
			return 0, false, fmt.Errorf("ref %q: search %s: %w", name, rf.Model, err)
		}
		var ids []int64
		if err := json.Unmarshal(raw, &ids); err != nil {
			return 0, false, &callError{Method: "model." + rf.Model + ".search", Status: http.StatusOK, Retryable: true, Reason: "answer is not a list of ids"}
		}
		if len(ids) == 0 {
			return 0, false, nil
		}
		return ids[0], true, nil
	}
	id, ok, err := search()
	if err != nil {
		return 0, err
	}
	if !ok {
		if rf.Create == nil {
			return 0, reject("ref %q: no %s matches the mapping's search, and the mapping gives no values to create one", name, rf.Model)
		}
		fields, err := w.fieldsOf(rf.Model)
		if err != nil {
			return 0, err
		}
		values, _, err := w.record(rf.Model, fields, rf.Create, nil, nil, nil, "", nil)
		if err != nil {
			return 0, fmt.Errorf("ref %q: %w", name, err)
		}
		raw, cerr := w.s.rpc.call(w.ctx, "model."+rf.Model+".create", []any{values}, w.ctxt)
		if cerr != nil {
			// Another send may have created it meanwhile (a unique code).
			if again, ok, err := search(); err == nil && ok {
				id = again
			} else {
				return 0, fmt.Errorf("ref %q: create %s: %w", name, rf.Model, cerr)
			}
		} else {
			var ids []int64
			if err := json.Unmarshal(raw, &ids); err != nil || len(ids) != 1 {
				return 0, &callError{Method: "model." + rf.Model + ".create", Status: http.StatusOK, Retryable: true, Reason: "answer is not one new id"}
			}
			id = ids[0]
		}
	}
	w.refs[string(key)] = id
	return id, nil
}

// fieldsOf returns the fields of model (fields_get), asked once per Sink.
func (w *writer) fieldsOf(model string) (map[string]field, error) {
	w.s.mu.Lock()
	f, ok := w.s.fields[model]
	w.s.mu.Unlock()
	if ok {
		return f, nil
	}
	raw, err := w.s.rpc.call(w.ctx, "model."+model+".fields_get", nil, w.ctxt)
	if err != nil {
		var ce *callError
		if errors.As(err, &ce) && ce.Status == http.StatusForbidden {
			return nil, reject("model %s is unknown to this Tryton or not open to user RPC (is its module activated?)", model)
		}
		return nil, fmt.Errorf("fields of %s: %w", model, err)
	}
	if err := json.Unmarshal(raw, &f); err != nil || len(f) == 0 {
		return nil, &callError{Method: "model." + model + ".fields_get", Status: http.StatusOK, Retryable: true, Reason: "unreadable field definitions"}
	}
	w.s.mu.Lock()
	w.s.fields[model] = f
	w.s.mu.Unlock()
	return f, nil
}

// with is this send's context plus one key.
func (w *writer) with(key string, v any) map[string]any {
	out := make(map[string]any, len(w.ctxt)+1)
	for k, x := range w.ctxt {
		out[k] = x
	}
	out[key] = v
	return out
}

// mappingReason says why the mapping failed. The mapping's errors name its
// file, kind and expression, never the record's content; a kind without a
// program says so.
func mappingReason(r erp.Record, err error) string {
	if errors.Is(err, mapping.ErrNoMapping) {
		return fmt.Sprintf("no Tryton document for records of kind %q: %v (add a program for the kind to the mapping file)", r.Kind, err)
	}
	return fmt.Sprintf("mapping of kind %q failed: %v", r.Kind, err)
}
