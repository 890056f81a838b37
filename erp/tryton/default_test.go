package tryton

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/mapping"
	"github.com/erpbridge/erpbridge/golden"
)

func defaultSink(t *testing.T) *Sink {
	t.Helper()
	cfg := server(t)
	m, err := mapping.Default(erp.KindTryton)
	if err != nil {
		t.Fatalf("default mapping: %v", err)
	}
	return newSink(t, cfg, m)
}

// goldenRecord is the golden record called name with suffix added to its
// external id, so that the documents it makes are the test's own.
func goldenRecord(t *testing.T, name, suffix string) erp.Record {
	t.Helper()
	r := golden.RecordNamed(t, name)
	r.ExternalID += suffix
	return r
}

// withData returns r with its data changed by edit (on the decoded object).
func withData(t *testing.T, r erp.Record, edit func(map[string]any)) erp.Record {
	t.Helper()
	var d map[string]any
	if err := decodeNumbers(r.Data, &d); err != nil {
		t.Fatal(err)
	}
	edit(d)
	raw, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	r.Data = raw
	return r
}

// TestDefaultMappingReceptionOrder: a reception order becomes a draft sale
// to the owner's party (found by AX3-OWNER-<receive base id>), one service
// line; a newer state rewrites the same sale.
func TestDefaultMappingReceptionOrder(t *testing.T) {
	t.Parallel()
	s := defaultSink(t)
	r := goldenRecord(t, "autox3_receivebase_create_full.json#0", uniqueID())
	res := mustSend(t, s, r)
	if !res.Created {
		t.Fatalf("first send did not create: %+v", res)
	}

	sales := read(t, s, "sale.sale", "reference", res.Number, "state", "party", "sale_date", "comment", "description", "lines", "invoice_address", "currency")
	if len(sales) != 1 {
		t.Fatalf("%d sales, want 1", len(sales))
	}
	sale := sales[0]
	if sale["state"] != "draft" {
		t.Errorf("state %v, want draft", sale["state"])
	}
	if d, ok := sale["sale_date"].(Date); !ok || d.String() != "2024-05-01" {
		t.Errorf("sale_date %v, want 2024-05-01", sale["sale_date"])
	}
	if c, _ := sale["comment"].(string); !strings.Contains(c, "进厂里程: 12345.67 km") {
		t.Errorf("comment %q lacks the odometer", c)
	}
	if sale["invoice_address"] == nil {
		t.Error("no invoice address (on_change of party)")
	}
	party := readIDs(t, s, "party.party", []any{sale["party"]}, "code", "name")[0]
	if party["code"] != "AX3-OWNER-6483" || party["name"] != "Brown xiaohaha" {
		t.Errorf("party %v %v, want AX3-OWNER-6483 Brown xiaohaha", party["code"], party["name"])
	}
	lines := readIDs(t, s, "sale.line", sale["lines"].([]any), "type", "product", "unit_price", "quantity", "unit")
	if len(lines) != 1 || lines[0]["type"] != "line" || lines[0]["product"] == nil || lines[0]["unit"] == nil {
		t.Fatalf("lines %v, want one service line with product and unit", lines)
	}

	r2 := withData(t, r, func(d map[string]any) {
		d["pre_check"].(map[string]any)["odometer"] = "12400.5"
	})
	r2.Version++
	upd := mustSend(t, s, r2)
	if upd.Created || upd.DocumentID != res.DocumentID {
		t.Fatalf("newer state: %+v, want a write of %s", upd, res.DocumentID)
	}
	sale = read(t, s, "sale.sale", "reference", res.Number, "comment", "lines")[0]
	if c, _ := sale["comment"].(string); !strings.Contains(c, "进厂里程: 12400.5 km") {
		t.Errorf("comment after the newer state %q lacks the new odometer", c)
	}
	if n := len(sale["lines"].([]any)); n != 1 {
		t.Errorf("%d lines after the newer state, want 1", n)
	}
}

// TestDefaultMappingInspectionReport: an inspection report becomes a draft
// sale of comment lines, to the same party as its reception order.
func TestDefaultMappingInspectionReport(t *testing.T) {
	t.Parallel()
	s := defaultSink(t)
	suffix := uniqueID()
	ro := goldenRecord(t, "autox3_receivebase_create_sample.json#0", suffix)
	ir := goldenRecord(t, "autox3_detection_finish_report_sample.json#0", suffix)
	roRes := mustSend(t, s, ro)
	irRes := mustSend(t, s, ir)
	if roRes.DocumentID == irRes.DocumentID {
		t.Fatal("reception order and inspection report share a document")
	}
	roSale := read(t, s, "sale.sale", "reference", roRes.Number, "party")[0]
	irSale := read(t, s, "sale.sale", "reference", irRes.Number, "party", "lines", "total_amount")[0]
	if roSale["party"] != irSale["party"] {
		t.Errorf("inspection report's party %v differs from the reception order's %v", irSale["party"], roSale["party"])
	}
	lines := readIDs(t, s, "sale.line", irSale["lines"].([]any), "type", "description")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want one per checked item (2)", len(lines))
	}
	for _, l := range lines {
		if l["type"] != "comment" {
			t.Errorf("line type %v, want comment", l["type"])
		}
	}
	if got := decimalText(t, irSale["total_amount"]); got != "0" && got != "0.00" {
		t.Errorf("total %s, want 0", got)
	}
}

// TestDefaultMappingCarOrder: a car order becomes a draft supplier invoice
// from Fenbeitong, one line per price detail, the total exact. The golden
// order with a 5-decimal fee is refused by Tryton (unit prices hold 4).
func TestDefaultMappingCarOrder(t *testing.T) {
	t.Parallel()
	s := defaultSink(t)

	sample := goldenRecord(t, "fenbeitong_car_sample.json#0", uniqueID())
	res := mustSend(t, s, sample)
	inv := read(t, s, "account.invoice", "reference", res.Number, "type", "state", "party", "lines", "total_amount", "account", "journal", "invoice_address")[0]
	if inv["type"] != "in" || inv["state"] != "draft" {
		t.Errorf("type %v state %v, want a draft supplier invoice", inv["type"], inv["state"])
	}
	if inv["account"] == nil || inv["journal"] == nil || inv["invoice_address"] == nil {
		t.Errorf("account %v journal %v address %v: on_change left one empty", inv["account"], inv["journal"], inv["invoice_address"])
	}
	if got := decimalText(t, inv["total_amount"]); got != "24.00" {
		t.Errorf("total %s, want 24.00 (10 + 14)", got)
	}
	party := readIDs(t, s, "party.party", []any{inv["party"]}, "code")[0]
	if party["code"] != "FENBEITONG" {
		t.Errorf("supplier %v, want FENBEITONG", party["code"])
	}

	full := golden.RecordNamed(t, "fenbeitong_car_full.json#0")
	full.ExternalID = uniqueID()
	_, err := s.Send(t.Context(), full)
	var e *erp.Error
	if !errors.As(err, &e) || e.Retryable || !strings.Contains(e.Detail(), `"Unit Price"`) {
		t.Fatalf("a 5-decimal unit price: %v, want Tryton's digits rejection", err)
	}

	fixed := withData(t, full, func(d map[string]any) {
		for _, p := range d["price_detail_info"].([]any) {
			if p.(map[string]any)["amount"] == "10.12345" {
				p.(map[string]any)["amount"] = "10.12"
			}
		}
	})
	res = mustSend(t, s, fixed)
	inv = read(t, s, "account.invoice", "reference", res.Number, "lines", "total_amount")[0]
	// 14.10 + 98765432101234.57 (CNY rounds the line's amount) + 10.12 - 5
	if got := decimalText(t, inv["total_amount"]); got != "98765432101253.79" {
		t.Errorf("total %s, want 98765432101253.79", got)
	}
	found := false
	for _, l := range readIDs(t, s, "account.invoice.line", inv["lines"].([]any), "unit_price") {
		if decimalText(t, l["unit_price"]) == "98765432101234.5678" {
			found = true
		}
	}
	if !found {
		t.Error("no line with unit price 98765432101234.5678")
	}
}

// TestDefaultMappingHotelOrder: another Fenbeitong category is a supplier
// invoice of one line, the order's total.
func TestDefaultMappingHotelOrder(t *testing.T) {
	t.Parallel()
	s := defaultSink(t)
	r := goldenRecord(t, "fenbeitong_hotel_sample.json#0", uniqueID())
	res := mustSend(t, s, r)
	inv := read(t, s, "account.invoice", "reference", res.Number, "lines", "total_amount")[0]
	if got := decimalText(t, inv["total_amount"]); got != "1288.00" {
		t.Errorf("total %s, want 1288.00", got)
	}
	if n := len(inv["lines"].([]any)); n != 1 {
		t.Errorf("%d lines, want 1", n)
	}
}

// TestDefaultMappingUnmappedKind: a kind the default does not map is a
// rejection naming the kind and the file, and writes nothing.
func TestDefaultMappingUnmappedKind(t *testing.T) {
	t.Parallel()
	s := defaultSink(t)
	r := golden.RecordNamed(t, "autox3_detection_finish_maintenance_full.json#2")
	if r.Kind != "maintenance_plan_item" {
		t.Fatalf("golden part is %s", r.Kind)
	}
	_, err := s.Send(t.Context(), r)
	var e *erp.Error
	if !errors.As(err, &e) || e.Retryable {
		t.Fatalf("unmapped kind: %v, want a rejection", err)
	}
	if !errors.Is(err, mapping.ErrNoMapping) {
		t.Errorf("error %v does not wrap mapping.ErrNoMapping", err)
	}
	for _, want := range []string{`"maintenance_plan_item"`, "defaults/tryton.yaml"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("rejection %q does not name %s", err.Error(), want)
		}
	}
}
