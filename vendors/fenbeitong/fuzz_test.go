package fenbeitong

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/vendors"
)

func fuzzSeeds(f *testing.F) {
	f.Add(pageSample(f))
	f.Add(SampleBody("F-1", 350, "2024-05-01 10:00:00"))
	for _, s := range []string{
		``, `{}`, `[]`, `null`, `{"order_info":{}}`, `{"order_info":null}`,
		`{"order_info":{"order_id":"A","order_category_type":"3"}}`,
		`{"order_info":{"order_id":"A","order_category_type":11,"status":"1"},"price_info":{"total_price":"1e5"}}`,
		`{"order_info":{"order_id":1e3,"order_category_type":3e0,"status":7e2,"create_time":"2020-01-01T00:00:00Z"}}`,
		`{" order_info ":{"order_id ":"A","order_category_type":3,"status":"700","create_time":"2020-01-01 00:00:00","price_detail_info":[null,{"amount":"-1"}]}}`,
		`{"order_info":{"order_id":"A","order_category_type":3},"saas_info":{"cost_info":[{"costAttributionGroupList":{}}]}}`,
		`{"a":` + strings.Repeat(`[`, 100),
	} {
		f.Add([]byte(s))
	}
}

func FuzzParsePush(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := ParsePush(body)
		if err != nil {
			if !errors.Is(err, vendors.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		key := p.EventKey()
		if !strings.HasPrefix(key, strconv.Itoa(p.Category())+":"+p.OrderID()+":") || len(key) > 191 {
			t.Fatalf("key %q", key)
		}
		for i := 0; i < len(p.OrderID()); i++ {
			if c := p.OrderID()[i]; c <= ' ' || c > '~' {
				t.Fatalf("order id %q accepted", p.OrderID())
			}
		}
		again, err := ParsePush(body)
		if err != nil || again.EventKey() != key {
			t.Fatalf("not deterministic: %v %q %q", err, key, again.EventKey())
		}
	})
}

func FuzzDecode(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := Decode(body)
		if err != nil {
			var ce *vendors.ContentError
			if !errors.Is(err, vendors.ErrMalformed) && !errors.As(err, &ce) {
				t.Fatalf("error %v is neither malformed nor content", err)
			}
			return
		}
		if _, err := json.Marshal(ev.Data); err != nil {
			t.Fatalf("data does not marshal: %v", err)
		}
		if ev.Tables == nil || ev.EventKey == "" || ev.ExternalID == "" {
			t.Fatalf("incomplete event %+v", ev)
		}
	})
}
