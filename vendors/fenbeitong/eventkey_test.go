package fenbeitong

import (
	"strings"
	"testing"
)

// An event key made from a push reads back into the push's category,
// order id and status, whatever the order id holds; other keys do not.
func TestParseEventKeyReadsWhatEventKeyMade(t *testing.T) {
	for _, tc := range []struct {
		body   []byte
		status string
	}{
		{SampleBody("OC1234567890", 700, "2020-04-30 19:32:01"), "700"},
		{SampleBody("a:b:700:c", 311, "2020-04-30 19:32:01"), "311"},
		{[]byte(`{"order_info":{"order_id":"X-1","order_category_type":"11"}}`), "-"},
		{[]byte(`{"order_info":{"order_id":"X-2","order_category_type":7,"status":-5}}`), "-5"},
	} {
		p, err := ParsePush(tc.body)
		if err != nil {
			t.Fatal(err)
		}
		cat, order, status, ok := ParseEventKey(p.EventKey())
		if !ok || cat != p.Category() || order != p.OrderID() || status != tc.status {
			t.Errorf("ParseEventKey(%q) = %d %q %q %v; want %d %q %q", p.EventKey(), cat, order, status, ok, p.Category(), p.OrderID(), tc.status)
		}
	}
	for _, bad := range []string{
		"", "3", "3:OC1", "x:OC1:700:0123456789abcdef", "3:OC1:700:0123456789abcde", "3:OC1:700:0123456789ABCDEF",
		"3::700:0123456789abcdef", "3:OC1:seven:0123456789abcdef", "03:OC1:700:0123456789abcdef",
		"3:OC1:700:0123456789abcdef#plan:1", strings.Repeat("9", 30) + ":OC1:700:0123456789abcdef",
	} {
		if cat, order, status, ok := ParseEventKey(bad); ok {
			t.Errorf("ParseEventKey(%q) = %d %q %q, true; want not ok", bad, cat, order, status)
		}
	}
}
