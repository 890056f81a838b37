package kdsim

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// operate runs one data operation on decoded parameters and returns the answer.
func (s *Server) operate(op string, p map[string]any) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch op {
	case OpSave:
		return s.save(p)
	case OpExecuteBillQuery:
		return s.query(p)
	case OpView:
		return s.view(p)
	case OpSubmit, OpAudit:
		return s.transition(op, p)
	}
	return failure(op, msgParameter, "", "不支持的操作")
}

// form resolves a form id; ok false answers an unknown business object.
func (s *Server) form(op string, v any) (id string, f Form, fail any) {
	id = strings.TrimSpace(text(v))
	if id == "" {
		return "", Form{}, failure(op, msgParameter, "", "formid 不能为空")
	}
	if f, ok := s.opts.Forms[id]; ok {
		return id, f, nil
	}
	for k, f := range s.opts.Forms {
		if strings.EqualFold(k, id) {
			return k, f, nil
		}
	}
	return "", Form{}, failure(op, msgUnknownObject, "", fmt.Sprintf("业务对象“%s”不存在", id))
}

// save creates a bill (model without FID) or updates one (with FID).
func (s *Server) save(p map[string]any) any {
	formID, form, fail := s.form(OpSave, p["formid"])
	if fail != nil {
		s.stats.SaveFailures++
		return fail
	}
	data, _ := p["data"].(map[string]any)
	mv, _ := lookup(data, "Model")
	model, ok := mv.(map[string]any)
	if !ok {
		s.stats.SaveFailures++
		return failure(OpSave, msgParameter, "", "data.Model 必须是对象")
	}
	model = clone(model).(map[string]any)
	fidValue, _ := lookup(model, "FID")
	fid, err := idOf(fidValue)
	if err != nil {
		s.stats.SaveFailures++
		return failure(OpSave, msgParameter, "FID", err.Error())
	}
	numberValue, _ := lookup(model, "FBillNo")
	number := strings.TrimSpace(text(numberValue))
	for _, k := range []string{"FID", "FBillNo", "FDocumentStatus"} {
		set(model, k, nil)
		delete(model, k)
	}
	bills := s.bills[formID]

	var target *bill
	if fid != 0 {
		target = s.byID[fid]
		if target == nil || target.form != formID {
			s.stats.SaveFailures++
			return failure(OpSave, msgNotFound, "FID", fmt.Sprintf("单据内码[%d]对应的单据不存在", fid))
		}
		if target.status == StatusSubmitted || target.status == StatusAudited {
			s.stats.SaveFailures++
			return failure(OpSave, msgNotOperable, "", fmt.Sprintf("单据[%s]的状态为%s，不允许修改", target.number, statusName(target.status)))
		}
		if number == "" {
			number = target.number
		}
		if other := bills[strings.ToUpper(number)]; other != nil && other != target {
			s.stats.SaveFailures++
			s.stats.DuplicateNumbers++
			return failure(OpSave, msgValidation, "FBillNo", fmt.Sprintf("单据编号[%s]已存在，不允许重复", number))
		}
	} else {
		if number == "" || s.opts.RenumberBills {
			number = fmt.Sprintf("%s-%d", strings.ToUpper(formID), s.nextID)
		}
		if bills[strings.ToUpper(number)] != nil {
			s.stats.SaveFailures++
			s.stats.DuplicateNumbers++
			return failure(OpSave, msgValidation, "FBillNo", fmt.Sprintf("单据编号[%s]已存在，不允许重复", number))
		}
	}
	if slices.ContainsFunc(s.faults.RejectNumbers, func(n string) bool { return strings.EqualFold(n, number) }) {
		s.stats.SaveFailures++
		return wrap(OpSave, status(false, msgValidation, []map[string]any{errorEntry("FSUPPLIERID", s.faults.RejectMessage, 0)}, nil))
	}

	merged := model
	if target != nil {
		merged = clone(target.model).(map[string]any)
		for k, v := range model {
			set(merged, k, v)
		}
	}
	if errs := missing(form, merged); len(errs) > 0 {
		s.stats.SaveFailures++
		return wrap(OpSave, status(false, msgValidation, errs, nil))
	}

	now := s.opts.Now()
	if target == nil {
		target = &bill{form: formID, id: s.nextID, status: StatusCreated, created: now}
		s.nextID++
		if bills == nil {
			bills = map[string]*bill{}
			s.bills[formID] = bills
		}
		s.byID[target.id] = target
		s.stats.Creates++
	} else {
		delete(bills, strings.ToUpper(target.number))
		s.stats.Updates++
	}
	target.number = number
	target.model = merged
	target.saves++
	target.updated = now
	bills[strings.ToUpper(number)] = target

	done := []map[string]any{{"Id": target.id, "Number": target.number, "DIndex": 0}}
	return map[string]any{"Result": map[string]any{
		"ResponseStatus": status(true, 0, nil, done),
		"Id":             target.id, "Number": target.number, "NeedReturnData": []any{map[string]any{}},
	}}
}

// missing lists the form's required fields that merged lacks.
func missing(form Form, model map[string]any) []map[string]any {
	var errs []map[string]any
	for _, key := range form.Required {
		head, field, nested := strings.Cut(key, ".")
		v, _ := lookup(model, head)
		if !nested {
			if !filled(v) {
				errs = append(errs, errorEntry(head, fmt.Sprintf("字段“%s”是必录项", head), 0))
			}
			continue
		}
		switch v := v.(type) {
		case map[string]any:
			if fv, _ := lookup(v, field); !filled(fv) {
				errs = append(errs, errorEntry(field, fmt.Sprintf("字段“%s.%s”是必录项", head, field), 0))
			}
		case []any:
			if len(v) == 0 {
				errs = append(errs, errorEntry(head, fmt.Sprintf("单据体“%s”至少需要一行", head), 0))
			}
			for i, row := range v {
				r, _ := row.(map[string]any)
				if fv, _ := lookup(r, field); !filled(fv) {
					errs = append(errs, errorEntry(field, fmt.Sprintf("第%d行字段“%s.%s”是必录项", i+1, head, field), i))
				}
			}
		default:
			errs = append(errs, errorEntry(head, fmt.Sprintf("“%s”是必录项", head), 0))
		}
	}
	return errs
}

// filled says whether a field has a value: not null or blank text, and for
// base data ({"FNumber": ...}) a non-blank number.
func filled(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case string:
		return strings.TrimSpace(v) != ""
	case map[string]any:
		if n, ok := lookup(v, "FNumber"); ok {
			return strings.TrimSpace(text(n)) != ""
		}
		return len(v) > 0
	case []any:
		return len(v) > 0
	}
	return true
}

// query answers ExecuteBillQuery: rows of FieldKeys for the bills matching
// a FilterString of the form Key='value' (or every bill when empty).
func (s *Server) query(p map[string]any) any {
	q, ok := p["data"].(map[string]any)
	if !ok {
		return failure(OpExecuteBillQuery, msgParameter, "", "查询参数必须是对象")
	}
	fv, _ := lookup(q, "FormId")
	formID, _, fail := s.form(OpExecuteBillQuery, fv)
	if fail != nil {
		return fail
	}
	kv, _ := lookup(q, "FieldKeys")
	var keys []string
	for k := range strings.SplitSeq(text(kv), ",") {
		if k = strings.TrimSpace(k); k != "" {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return failure(OpExecuteBillQuery, msgParameter, "", "FieldKeys 不能为空")
	}
	filterV, _ := lookup(q, "FilterString")
	filter := strings.TrimSpace(text(filterV))
	var fkey, fval string
	if filter != "" {
		m := filterRE.FindStringSubmatch(filter)
		if m == nil {
			return failure(OpExecuteBillQuery, msgParameter, "", "过滤条件无法解析（模拟器只支持 字段='值'）")
		}
		fkey, fval = m[1], strings.ReplaceAll(m[2], "''", "'")
	}
	var matched []*bill
	for _, b := range s.bills[formID] {
		if filter == "" || text(b.field(fkey)) == fval {
			matched = append(matched, b)
		}
	}
	slices.SortFunc(matched, func(a, b *bill) int { return cmp.Compare(a.id, b.id) })
	start := intOf(q, "StartRow")
	if start > len(matched) {
		start = len(matched)
	}
	matched = matched[start:]
	if limit := intOf(q, "Limit"); limit > 0 && limit < len(matched) {
		matched = matched[:limit]
	}
	if top := intOf(q, "TopRowCount"); top > 0 && top < len(matched) {
		matched = matched[:top]
	}
	rows := make([][]any, 0, len(matched))
	for _, b := range matched {
		row := make([]any, len(keys))
		for i, k := range keys {
			row[i] = b.field(k)
		}
		rows = append(rows, row)
	}
	return rows
}

func intOf(q map[string]any, key string) int {
	v, _ := lookup(q, key)
	n, err := strconv.Atoi(strings.TrimSpace(text(v)))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// field is a bill's value of key: FID, FBillNo, FDocumentStatus, a model
// field, or "Field.Sub" of a nested object (base data: "FSupplierID.FNumber").
func (b *bill) field(key string) any {
	switch {
	case strings.EqualFold(key, "FID"):
		return b.id
	case strings.EqualFold(key, "FBillNo"):
		return b.number
	case strings.EqualFold(key, "FDocumentStatus"):
		return b.status
	}
	head, sub, nested := strings.Cut(key, ".")
	v, _ := lookup(b.model, head)
	if nested {
		m, _ := v.(map[string]any)
		v, _ = lookup(m, sub)
	}
	switch v.(type) {
	case map[string]any, []any:
		return nil // an ExecuteBillQuery row holds scalars only
	}
	return v
}

// view answers View of one bill by Number or Id.
func (s *Server) view(p map[string]any) any {
	formID, _, fail := s.form(OpView, p["formid"])
	if fail != nil {
		return fail
	}
	b, fail := s.find(OpView, formID, p["data"])
	if fail != nil {
		return fail
	}
	out := clone(b.model).(map[string]any)
	out["Id"], out["Number"], out["BillNo"], out["DocumentStatus"] = b.id, b.number, b.number, b.status
	return map[string]any{"Result": map[string]any{
		"ResponseStatus": status(true, 0, nil, nil),
		"Result":         out,
	}}
}

// find resolves the bill named by data's Number or Id.
func (s *Server) find(op, formID string, dv any) (*bill, any) {
	data, _ := dv.(map[string]any)
	if n, ok := lookup(data, "Number"); ok && text(n) != "" {
		if b := s.bills[formID][strings.ToUpper(text(n))]; b != nil {
			return b, nil
		}
		return nil, failure(op, msgNotFound, "", fmt.Sprintf("单据[%s]不存在", text(n)))
	}
	iv, _ := lookup(data, "Id")
	id, err := idOf(iv)
	if err != nil || id == 0 {
		return nil, failure(op, msgParameter, "", "需要 Number 或 Id")
	}
	if b := s.byID[id]; b != nil && b.form == formID {
		return b, nil
	}
	return nil, failure(op, msgNotFound, "", fmt.Sprintf("单据内码[%d]对应的单据不存在", id))
}

// transition submits (A, D, Z → B) or audits (B → C) the bills named by
// data's Numbers or Ids ("1,2").
func (s *Server) transition(op string, p map[string]any) any {
	formID, _, fail := s.form(op, p["formid"])
	if fail != nil {
		return fail
	}
	data, _ := p["data"].(map[string]any)
	var targets []any
	if nv, ok := lookup(data, "Numbers"); ok {
		if arr, ok := nv.([]any); ok {
			for _, n := range arr {
				targets = append(targets, map[string]any{"Number": n})
			}
		}
	}
	if iv, ok := lookup(data, "Ids"); ok {
		for id := range strings.SplitSeq(text(iv), ",") {
			if id = strings.TrimSpace(id); id != "" {
				targets = append(targets, map[string]any{"Id": id})
			}
		}
	}
	if len(targets) == 0 {
		return failure(op, msgParameter, "", "需要 Numbers 或 Ids")
	}
	var errs, done []map[string]any
	for i, t := range targets {
		b, fail := s.find(op, formID, t)
		if fail != nil {
			errs = append(errs, errorEntry("", "单据不存在", i))
			continue
		}
		from, to := []string{StatusCreated, StatusDraft, StatusReaudit}, StatusSubmitted
		if op == OpAudit {
			from, to = []string{StatusSubmitted}, StatusAudited
		}
		if !slices.Contains(from, b.status) {
			errs = append(errs, errorEntry("", fmt.Sprintf("单据[%s]的状态为%s，不能%s", b.number, statusName(b.status), opName(op)), i))
			continue
		}
		b.status = to
		b.updated = s.opts.Now()
		done = append(done, map[string]any{"Id": b.id, "Number": b.number, "DIndex": i})
	}
	if len(errs) > 0 {
		return wrap(op, status(false, msgNotOperable, errs, done))
	}
	return map[string]any{"Result": map[string]any{"ResponseStatus": status(true, 0, nil, done)}}
}

func statusName(st string) string {
	switch st {
	case StatusDraft:
		return "暂存"
	case StatusCreated:
		return "创建"
	case StatusSubmitted:
		return "审核中"
	case StatusAudited:
		return "已审核"
	case StatusReaudit:
		return "重新审核"
	}
	return st
}

func opName(op string) string {
	if op == OpAudit {
		return "审核"
	}
	return "提交"
}

// clone deep-copies decoded JSON.
func clone(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = clone(x)
		}
		return m
	case []any:
		a := make([]any, len(v))
		for i, x := range v {
			a[i] = clone(x)
		}
		return a
	case json.Number, string, bool, nil:
		return v
	}
	return v
}
