package activities

import (
	"encoding/json"
	"testing"
)

// A listed order is fetched whole when it lacks its prices, its price
// lines or its people, whether the list leaves them out or gives null; an
// order the list gives whole is taken as listed.
func TestLacksForRecord(t *testing.T) {
	const whole = `{"order_info":{"order_id":"O-1","price_detail_info":[]},"price_info":{"total_price":1},"user_info":{"user_id":"u"}}`
	for _, c := range []struct {
		name, item string
		id         string
		lacks      bool
	}{
		{"whole", whole, "O-1", false},
		{"empty lists and objects are given", `{"order_info":{"order_id":"O-1","price_detail_info":[]},"price_info":{},"user_info":{}}`, "O-1", false},
		{"no prices", `{"order_info":{"order_id":"O-1","price_detail_info":[]},"user_info":{"user_id":"u"}}`, "O-1", true},
		{"null prices", `{"order_info":{"order_id":"O-1","price_detail_info":[]},"price_info":null,"user_info":{"user_id":"u"}}`, "O-1", true},
		{"no price lines", `{"order_info":{"order_id":"O-1"},"price_info":{"total_price":1},"user_info":{"user_id":"u"}}`, "O-1", true},
		{"null price lines", `{"order_info":{"order_id":"O-1","price_detail_info":null},"price_info":{"total_price":1},"user_info":{"user_id":"u"}}`, "O-1", true},
		{"no people", `{"order_info":{"order_id":"O-1","price_detail_info":[]},"price_info":{"total_price":1}}`, "O-1", true},
		{"null people", `{"order_info":{"order_id":"O-1","price_detail_info":[]},"price_info":{"total_price":1},"user_info":null}`, "O-1", true},
		{"no order info", `{"price_info":{"total_price":1},"user_info":{"user_id":"u"}}`, "", true},
		{"not an object", `[1,2]`, "", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !json.Valid([]byte(c.item)) {
				t.Fatalf("the case's item is not JSON: %s", c.item)
			}
			id, lacks := lacksForRecord(json.RawMessage(c.item))
			if id != c.id || lacks != c.lacks {
				t.Errorf("lacksForRecord = %q, %v; want %q, %v", id, lacks, c.id, c.lacks)
			}
		})
	}
}
