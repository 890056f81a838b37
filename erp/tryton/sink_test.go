package tryton

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/erpbridge/erpbridge/erp"
)

// mapperFunc is an erp.Mapper made of a function.
type mapperFunc func(ctx context.Context, r erp.Record) (json.RawMessage, error)

func (f mapperFunc) Render(ctx context.Context, r erp.Record) (json.RawMessage, error) {
	return f(ctx, r)
}

// passthrough is a mapper whose output is the record's data.doc, so each
// test states the exact document it sends.
var passthrough = mapperFunc(func(_ context.Context, r erp.Record) (json.RawMessage, error) {
	var d struct {
		Doc json.RawMessage `json:"doc"`
	}
	if err := json.Unmarshal(r.Data, &d); err != nil || len(d.Doc) == 0 {
		return nil, errors.New("test record has no data.doc")
	}
	return d.Doc, nil
})

func newSink(t *testing.T, cfg Config, m erp.Mapper, opts ...Option) *Sink {
	t.Helper()
	s, err := New(cfg, m, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// testRecord is one state of a record of kind with a unique external id
// prefix per test, carrying doc as data.doc.
func testRecord(kind, id string, version int64, doc string) erp.Record {
	return erp.Record{
		Source:     "autox3",
		Kind:       kind,
		ExternalID: id,
		Version:    version,
		OccurredAt: time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC),
		Data:       json.RawMessage(`{"doc":` + doc + `}`),
	}
}

func uniqueID() string { return strings.ReplaceAll(uuid.NewString(), "-", "")[:16] }

type testLine struct{ desc, price string }

func saleDoc(partyCode string, lines ...testLine) string {
	return fmt.Sprintf(`{"model": "sale.sale",
		"values": {"description": "test sale", "sale_date": "2024-05-01"},
		"refs": {"party": {"model": "party.party", "search": [["code", "=", %q]],
			"create": {"name": "Test Owner", "code": %q, "addresses": [["create", [{}]]]}}},
		"on_change": ["party"],
		"lines": {"field": "lines", "items": [%s]}}`, partyCode, partyCode, lineItems("AX3-SERVICE", lines))
}

func invoiceDoc(lines ...testLine) string {
	return fmt.Sprintf(`{"model": "account.invoice",
		"values": {"type": "in", "description": "test invoice"},
		"refs": {"party": {"model": "party.party", "search": [["code", "=", "FENBEITONG"]],
			"create": {"name": "分贝通 Fenbeitong", "code": "FENBEITONG", "addresses": [["create", [{}]]]}}},
		"on_change": ["type", "party"],
		"on_change_with": ["account"],
		"lines": {"field": "lines", "items": [%s]}}`, lineItems("FBT-CAR", lines))
}

// lineItems is a document's line items, one per line, each of the product
// with code productCode.
func lineItems(productCode string, lines []testLine) string {
	items := make([]string, len(lines))
	for i, l := range lines {
		items[i] = fmt.Sprintf(`{"values": {"type": "line", "quantity": 1, "unit_price": %s, "description": %q},
			"refs": {"product": {"model": "product.product", "search": [["code", "=", %q]]}},
			"on_change": ["product"]}`, l.price, l.desc, productCode)
	}
	return strings.Join(items, ",")
}

// read returns the fields of the records of model whose field equals
// value, decoded (Decimal, Date, ...).
func read(t *testing.T, s *Sink, model, field, value string, names ...string) []map[string]any {
	t.Helper()
	ctxt, err := s.rpc.context(t.Context(), map[string]any{"active_test": false})
	if err != nil {
		t.Fatalf("context: %v", err)
	}
	raw, err := s.rpc.call(t.Context(), "model."+model+".search_read",
		[]any{[]any{field, "=", value}}, 0, nil, []any{[]any{"id", "ASC"}}, append([]string{"id"}, names...), ctxt)
	if err != nil {
		t.Fatalf("search_read %s: %v", model, err)
	}
	return decodeRows(t, model, raw)
}

// readIDs returns fields of the records of model with the given ids.
func readIDs(t *testing.T, s *Sink, model string, ids []any, names ...string) []map[string]any {
	t.Helper()
	ctxt, err := s.rpc.context(t.Context(), nil)
	if err != nil {
		t.Fatalf("context: %v", err)
	}
	raw, err := s.rpc.call(t.Context(), "model."+model+".read", ids, names, ctxt)
	if err != nil {
		t.Fatalf("read %s: %v", model, err)
	}
	return decodeRows(t, model, raw)
}

// decodeRows decodes the records of model that a search_read or a read
// answered, each a map of its fields.
func decodeRows(t *testing.T, model string, raw json.RawMessage) []map[string]any {
	t.Helper()
	v, err := Decode(raw)
	if err != nil {
		t.Fatalf("decode %s: %v", model, err)
	}
	list, ok := v.([]any)
	if !ok {
		t.Fatalf("%s: the answer is %T, not a list of records", model, v)
	}
	var rows []map[string]any
	for _, r := range list {
		row, ok := r.(map[string]any)
		if !ok {
			t.Fatalf("%s: a record is %T, not an object", model, r)
		}
		rows = append(rows, row)
	}
	return rows
}

func decimalText(t *testing.T, v any) string {
	t.Helper()
	d, ok := v.(Decimal)
	if !ok {
		t.Fatalf("%v (%T) is not a Tryton Decimal", v, v)
	}
	return d.String()
}

func mustSend(t *testing.T, s *Sink, r erp.Record) erp.Result {
	t.Helper()
	res, err := s.Send(t.Context(), r)
	if err != nil {
		var e *erp.Error
		if errors.As(err, &e) {
			t.Fatalf("Send %s: %v\ndetail: %s", r.Label(), err, e.Detail())
		}
		t.Fatalf("Send %s: %v", r.Label(), err)
	}
	return res
}

// TestSendSaleOneDocumentPerRecord: a record becomes one draft sale; a
// resend of the same state finds it and leaves one document; a newer state
// writes it, its lines replaced so the document ends as the newest state.
func TestSendSaleOneDocumentPerRecord(t *testing.T) {
	t.Parallel()
	cfg := server(t)
	s := newSink(t, cfg, passthrough)
	id := uniqueID()
	party := "AX3-CUST-T" + id

	r1 := testRecord("reception_order", id, 1, saleDoc(party, testLine{"wash", "100.50"}))
	res := mustSend(t, s, r1)
	if !res.Created || res.DocumentID == "" || res.Number != "AX3-RO-"+id {
		t.Fatalf("first send: %+v, want created with number AX3-RO-%s", res, id)
	}
	again := mustSend(t, s, r1)
	if again.Created || again.DocumentID != res.DocumentID {
		t.Fatalf("resend: %+v, want the same document %s, not created", again, res.DocumentID)
	}

	r2 := testRecord("reception_order", id, 2, saleDoc(party, testLine{"oil change", "388.00"}, testLine{"filter", "45.5"}))
	upd := mustSend(t, s, r2)
	if upd.Created || upd.DocumentID != res.DocumentID {
		t.Fatalf("newer state: %+v, want a write of document %s", upd, res.DocumentID)
	}

	sales := read(t, s, "sale.sale", "reference", res.Number, "state", "lines", "party", "total_amount", "invoice_address")
	if len(sales) != 1 {
		t.Fatalf("%d sales with reference %s, want 1", len(sales), res.Number)
	}
	sale := sales[0]
	if sale["state"] != "draft" {
		t.Errorf("state %v, want draft", sale["state"])
	}
	if sale["invoice_address"] == nil {
		t.Errorf("invoice_address not filled by on_change of party")
	}
	if got := decimalText(t, sale["total_amount"]); got != "433.50" {
		t.Errorf("total_amount %s, want 433.50", got)
	}
	lines := readIDs(t, s, "sale.line", sale["lines"].([]any), "description", "unit_price", "unit", "product")
	if len(lines) != 2 {
		t.Fatalf("%d lines after the newer state, want 2 (old ones replaced)", len(lines))
	}
	want := map[string]string{"oil change": "388.00", "filter": "45.5"}
	for _, l := range lines {
		desc, _ := l["description"].(string)
		p, ok := want[desc]
		if !ok {
			t.Errorf("unexpected line %q", desc)
			continue
		}
		if got := decimalText(t, l["unit_price"]); got != p && got != p+"0" && got != p+"00" {
			t.Errorf("line %q unit_price %s, want %s", desc, got, p)
		}
		if l["unit"] == nil {
			t.Errorf("line %q: unit not filled by on_change of product", desc)
		}
	}
	parties := read(t, s, "party.party", "code", party, "name")
	if len(parties) != 1 {
		t.Errorf("%d parties with code %s, want 1 (found again, not created twice)", len(parties), party)
	}
}

// createFails is a transport that lets a create reach Tryton and commit,
// then tells the client it timed out: Tryton holds a document the client
// does not know of.
type createFails struct {
	next  http.RoundTripper
	model string
	hits  atomic.Int32
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "simulated timeout after Tryton answered" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

var _ net.Error = timeoutError{}

func (c *createFails) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := requestBody(req)
	if err != nil {
		return nil, err
	}
	resp, err := c.next.RoundTrip(req)
	if err == nil && strings.Contains(body, `"method":"model.`+c.model+`.create"`) {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		c.hits.Add(1)
		return nil, timeoutError{}
	}
	return resp, err
}

// requestBody reads req's body and puts it back for the transport that
// sends the request.
func requestBody(req *http.Request) (string, error) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return "", err
	}
	req.Body = io.NopCloser(strings.NewReader(string(body)))
	return string(body), nil
}

// TestSendAfterTimeoutFindsDocument: the first send's create commits in
// Tryton but the client sees a timeout (retryable); the resend finds the
// document by its reference and writes it instead of creating a second.
func TestSendAfterTimeoutFindsDocument(t *testing.T) {
	t.Parallel()
	cfg := server(t)
	ft := &createFails{next: http.DefaultTransport, model: "account.invoice"}
	flaky := newSink(t, cfg, passthrough, WithTransport(ft))
	r := testRecord("car_order", uniqueID(), 1, invoiceDoc(testLine{"起步价格", "14.10"}))
	r.Source = "fenbeitong"

	_, err := flaky.Send(t.Context(), r)
	var e *erp.Error
	if !errors.As(err, &e) || !e.Retryable {
		t.Fatalf("send whose create timed out: %v, want a retryable *erp.Error", err)
	}
	if ft.hits.Load() != 1 {
		t.Fatalf("create reached Tryton %d times, want 1", ft.hits.Load())
	}

	s := newSink(t, cfg, passthrough)
	res := mustSend(t, s, r)
	if res.Created {
		t.Fatalf("resend created a document: %+v; want the one the timed-out call created", res)
	}
	if n := len(read(t, s, "account.invoice", "reference", res.Number)); n != 1 {
		t.Fatalf("%d invoices with reference %s, want 1", n, res.Number)
	}
}

// countMethod counts the requests for one JSON-RPC method.
type countMethod struct {
	next   http.RoundTripper
	method string
	calls  atomic.Int32
}

func (c *countMethod) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := requestBody(req)
	if err != nil {
		return nil, err
	}
	if strings.Contains(body, `"method":"`+c.method+`"`) {
		c.calls.Add(1)
	}
	return c.next.RoundTrip(req)
}

// TestLineDefaultsAskedOncePerSend: a send whose lines each have an
// on_change asks the line model's defaults once, and every line still gets
// what its on_change fills.
func TestLineDefaultsAskedOncePerSend(t *testing.T) {
	t.Parallel()
	cfg := server(t)
	cm := &countMethod{next: http.DefaultTransport, method: "model.sale.line.default_get"}
	s := newSink(t, cfg, passthrough, WithTransport(cm))
	res := mustSend(t, s, testRecord("reception_order", uniqueID(), 1,
		saleDoc("AX3-CUST-D"+uniqueID(), testLine{"wash", "10"}, testLine{"oil", "20"}, testLine{"filter", "30"})))
	if n := cm.calls.Load(); n != 1 {
		t.Errorf("sale.line default_get asked %d times for 3 lines, want 1", n)
	}
	sales := read(t, s, "sale.sale", "reference", res.Number, "lines")
	if len(sales) != 1 {
		t.Fatalf("%d sales with reference %s, want 1", len(sales), res.Number)
	}
	lines := readIDs(t, s, "sale.line", sales[0]["lines"].([]any), "description", "unit")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3", len(lines))
	}
	for _, l := range lines {
		if l["unit"] == nil {
			t.Errorf("line %v: unit not filled by on_change of product", l["description"])
		}
	}
}

// TestSessionReusedAndRenewed: sends reuse one session; when Tryton no
// longer knows it (logged out on the server, or a key it never issued),
// the 401 gets exactly one new login and the call is repeated.
func TestSessionReusedAndRenewed(t *testing.T) {
	t.Parallel()
	cfg := server(t)
	logins := &countMethod{next: http.DefaultTransport, method: "common.db.login"}
	s := newSink(t, cfg, passthrough, WithTransport(logins))
	party := "AX3-CUST-S" + uniqueID()
	for i := range 3 {
		mustSend(t, s, testRecord("reception_order", uniqueID(), int64(i+1), saleDoc(party, testLine{"wash", "10"})))
	}
	if n := logins.calls.Load(); n != 1 {
		t.Fatalf("%d logins for 3 sends, want 1 (session reused)", n)
	}

	// The session ends on the server (as when it expires).
	sess, err := s.rpc.session(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.rpc.do(t.Context(), "common.db.logout", []any{}, sess); err != nil {
		t.Fatalf("logout: %v", err)
	}
	mustSend(t, s, testRecord("reception_order", uniqueID(), 1, saleDoc(party, testLine{"wash", "10"})))
	if n := logins.calls.Load(); n != 2 {
		t.Fatalf("%d logins after the session ended, want 2 (one new login)", n)
	}
	renewed, _ := s.rpc.session(t.Context())
	if renewed.key == sess.key {
		t.Fatal("session key unchanged after a 401")
	}

	// A key Tryton never issued.
	s.rpc.mu.Lock()
	s.rpc.sess = &session{userID: renewed.userID, key: "0123456789abcdef"}
	s.rpc.mu.Unlock()
	mustSend(t, s, testRecord("reception_order", uniqueID(), 1, saleDoc(party, testLine{"wash", "10"})))
	if n := logins.calls.Load(); n != 3 {
		t.Fatalf("%d logins after an unknown session, want 3", n)
	}
}

// TestValidationFailureIsRejection: values Tryton refuses (more decimals
// than a unit price holds; a selection value it does not know) are final
// rejections with Tryton's message in Detail only, and leave no document.
func TestValidationFailureIsRejection(t *testing.T) {
	t.Parallel()
	cfg := server(t)
	s := newSink(t, cfg, passthrough)
	cases := map[string]string{
		"five decimals":     invoiceDoc(testLine{"高速费", "10.12345"}),
		"unknown selection": strings.Replace(invoiceDoc(testLine{"x", "1"}), `"type": "line"`, `"type": "sideways"`, 1),
	}
	for name, doc := range cases {
		t.Run(name, func(t *testing.T) {
			r := testRecord("car_order", uniqueID(), 1, doc)
			r.Source = "fenbeitong"
			_, err := s.Send(t.Context(), r)
			var e *erp.Error
			if !errors.As(err, &e) {
				t.Fatalf("Send: %v, want an *erp.Error", err)
			}
			if e.Retryable {
				t.Fatalf("Send: %v, want a rejection (not retryable)", err)
			}
			t.Logf("Error(): %v\nDetail(): %s", err, e.Detail())
			if !strings.Contains(e.Detail(), "UserError") {
				t.Errorf("Detail %q does not carry Tryton's UserError", e.Detail())
			}
			if strings.Contains(err.Error(), "UserError") {
				t.Errorf("Error() %q quotes Tryton's answer; want its fingerprint only", err.Error())
			}
			if n := len(read(t, s, "account.invoice", "reference", erp.DocumentNumber(r))); n != 0 {
				t.Errorf("%d invoices after a rejection, want 0", n)
			}
		})
	}
}

// TestNotDraftIsRejection: once a person quotes the sale or posts the
// invoice, a newer state of the record is refused, naming the state.
func TestNotDraftIsRejection(t *testing.T) {
	t.Parallel()
	cfg := server(t)
	s := newSink(t, cfg, passthrough)

	t.Run("sale quotation", func(t *testing.T) {
		id := uniqueID()
		party := "AX3-CUST-Q" + id
		res := mustSend(t, s, testRecord("reception_order", id, 1, saleDoc(party, testLine{"wash", "10"})))
		call(t, s, "model.sale.sale.quote", []any{docID(t, res)})
		_, err := s.Send(t.Context(), testRecord("reception_order", id, 2, saleDoc(party, testLine{"wash", "20"})))
		wantStateRejection(t, err, "quotation")
	})
	t.Run("invoice posted", func(t *testing.T) {
		r := testRecord("car_order", uniqueID(), 1, invoiceDoc(testLine{"起步价格", "14.10"}))
		r.Source = "fenbeitong"
		res := mustSend(t, s, r)
		ctxt, _ := s.rpc.context(t.Context(), nil)
		if _, err := s.rpc.call(t.Context(), "model.account.invoice.write", []any{docID(t, res)},
			map[string]any{"invoice_date": Date{Year: time.Now().Year(), Month: time.Now().Month(), Day: time.Now().Day()}}, ctxt); err != nil {
			t.Fatalf("set invoice date: %v", err)
		}
		call(t, s, "model.account.invoice.post", []any{docID(t, res)})
		r.Version = 2
		_, err := s.Send(t.Context(), r)
		wantStateRejection(t, err, "posted")
	})
}

func docID(t *testing.T, res erp.Result) int64 {
	t.Helper()
	var id int64
	if _, err := fmt.Sscan(res.DocumentID, &id); err != nil {
		t.Fatalf("document id %q: %v", res.DocumentID, err)
	}
	return id
}

func call(t *testing.T, s *Sink, method string, params ...any) {
	t.Helper()
	ctxt, err := s.rpc.context(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.rpc.call(t.Context(), method, append(params, ctxt)...); err != nil {
		t.Fatalf("%s: %v", method, err)
	}
}

func wantStateRejection(t *testing.T, err error, state string) {
	t.Helper()
	var e *erp.Error
	if !errors.As(err, &e) || e.Retryable {
		t.Fatalf("send to a %s document: %v, want a rejection", state, err)
	}
	if !strings.Contains(err.Error(), `state "`+state+`"`) || !strings.Contains(err.Error(), "only a draft") {
		t.Fatalf("rejection %q does not name state %q", err.Error(), state)
	}
}

// TestExactAmounts: amounts travel as Decimal text both ways; the invoice's
// total is the exact sum, far beyond float64's digits; a unit price keeps
// its four decimals.
func TestExactAmounts(t *testing.T) {
	t.Parallel()
	cfg := server(t)
	s := newSink(t, cfg, passthrough)
	r := testRecord("car_order", uniqueID(), 1, invoiceDoc(
		testLine{"里程费", "98765432101234.56"},
		testLine{"起步价格", "12345.67"},
		testLine{"优惠券", "-5"},
		testLine{"高速费", "0.01"},
	))
	r.Source = "fenbeitong"
	res := mustSend(t, s, r)
	inv := read(t, s, "account.invoice", "reference", res.Number, "total_amount", "untaxed_amount", "lines", "state", "type")
	if len(inv) != 1 {
		t.Fatalf("%d invoices, want 1", len(inv))
	}
	if inv[0]["type"] != "in" || inv[0]["state"] != "draft" {
		t.Errorf("invoice type %v state %v, want a draft supplier invoice", inv[0]["type"], inv[0]["state"])
	}
	if got := decimalText(t, inv[0]["total_amount"]); got != "98765432113575.24" {
		t.Errorf("total_amount %s, want 98765432113575.24", got)
	}
	lines := readIDs(t, s, "account.invoice.line", inv[0]["lines"].([]any), "unit_price", "amount", "account")
	if len(lines) != 4 {
		t.Fatalf("%d lines, want 4", len(lines))
	}
	for _, l := range lines {
		if l["account"] == nil {
			t.Errorf("line %v has no account (on_change of product)", l["id"])
		}
	}

	r4 := testRecord("car_order", uniqueID(), 1, invoiceDoc(testLine{"里程费", "98765432101234.5678"}))
	r4.Source = "fenbeitong"
	res4 := mustSend(t, s, r4)
	inv4 := read(t, s, "account.invoice", "reference", res4.Number, "lines")
	lines4 := readIDs(t, s, "account.invoice.line", inv4[0]["lines"].([]any), "unit_price", "amount")
	if got := decimalText(t, lines4[0]["unit_price"]); got != "98765432101234.5678" {
		t.Errorf("unit_price %s, want 98765432101234.5678", got)
	}
	if got := decimalText(t, lines4[0]["amount"]); got != "98765432101234.57" {
		t.Errorf("amount %s, want 98765432101234.57 (CNY rounds to 0.01)", got)
	}
}

// TestSecretsNeverInErrors: a wrong password is a retryable login failure
// whose text names the user and the variable but never a password or
// session key.
func TestSecretsNeverInErrors(t *testing.T) {
	t.Parallel()
	cfg := server(t)
	bad := cfg
	bad.Password = "wrong-" + cfg.Password
	s := newSink(t, bad, passthrough)
	_, err := s.Send(t.Context(), testRecord("reception_order", uniqueID(), 1, saleDoc("X", testLine{"wash", "1"})))
	var e *erp.Error
	if !errors.As(err, &e) || !e.Retryable {
		t.Fatalf("wrong password: %v, want a retryable *erp.Error", err)
	}
	for _, text := range []string{err.Error(), e.Detail()} {
		if strings.Contains(text, cfg.Password) {
			t.Fatalf("error text carries the password: %q", text)
		}
		if !strings.Contains(text, "TRYTON_PASSWORD") {
			t.Errorf("error %q does not point at TRYTON_PASSWORD", text)
		}
	}

	good := newSink(t, cfg, passthrough)
	_, err = good.Send(t.Context(), testRecord("reception_order", uniqueID(), 1, `{"model": "no.such.model", "values": {}}`))
	if err == nil {
		t.Fatal("send to an unknown model succeeded")
	}
	sess, _ := good.rpc.session(t.Context())
	for _, text := range []string{err.Error(), err.(*erp.Error).Detail()} {
		if strings.Contains(text, cfg.Password) || (sess != nil && strings.Contains(text, sess.key)) {
			t.Fatalf("error text carries a secret: %q", text)
		}
	}
}

// TestMappingErrorsAreRejections: a mapper that fails, output that is not
// a document, and fields the model lacks are rejections naming the problem.
func TestMappingErrorsAreRejections(t *testing.T) {
	t.Parallel()
	cfg := server(t)
	failing := mapperFunc(func(context.Context, erp.Record) (json.RawMessage, error) {
		return nil, errors.New(`mapping file x.yaml: no program for kind "inspection_report"`)
	})
	cases := []struct {
		name string
		m    erp.Mapper
		doc  string
		want string
	}{
		{"mapper fails", failing, `{}`, `no program for kind`},
		{"unknown key", passthrough, `{"model": "sale.sale", "valuez": {}}`, `unknown field "valuez"`},
		{"unknown field", passthrough, `{"model": "sale.sale", "values": {"colour": "red"}}`, `"colour", which sale.sale does not have`},
		{"unknown model", passthrough, `{"model": "no.such.model", "values": {}}`, `no.such.model`},
		{"ref without create", passthrough, `{"model": "sale.sale", "refs": {"party": {"model": "party.party", "search": [["code", "=", "NO-SUCH-PARTY"]]}}}`, `no party.party matches`},
		{"bad number", passthrough, `{"model": "sale.sale", "values": {"sale_date": 5}}`, `a date field needs`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSink(t, cfg, c.m)
			_, err := s.Send(t.Context(), testRecord("reception_order", uniqueID(), 1, c.doc))
			var e *erp.Error
			if !errors.As(err, &e) || e.Retryable {
				t.Fatalf("Send: %v, want a rejection", err)
			}
			if !strings.Contains(e.Detail(), c.want) {
				t.Fatalf("rejection %q does not say %q", e.Detail(), c.want)
			}
		})
	}
}
