package autox3

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/vendors"
)

// Accept reports the variant and the position of the secret that verified;
// empty entries are dropped before positions are counted, as the
// configuration lists them.
func TestAcceptReportsVariantAndSecret(t *testing.T) {
	v := New("new-secret", "", "old-secret")
	pretty := func(b []byte) []byte {
		var out bytes.Buffer
		if err := json.Indent(&out, b, "", "  "); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	cases := []struct {
		name string
		body []byte
		want vendors.Auth
	}{
		{"new secret", SampleReceptionBody("a-1", 1, 1700000000000, "new-secret"), vendors.Auth{Secret: 0, Variant: VariantReceived}},
		{"old secret", SampleReceptionBody("a-2", 1, 1700000000000, "old-secret"), vendors.Auth{Secret: 1, Variant: VariantReceived}},
		{"old secret, pretty-printed", pretty(SampleReceptionBody("a-3", 1, 1700000000000, "old-secret")), vendors.Auth{Secret: 1, Variant: VariantCompact}},
		{"staffInfo absent, signed over empty text", signedBody("", `{"b":1}`, "", `{"b":1}`, "new-secret"), vendors.Auth{Secret: 0, Variant: "received_staff_empty"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			meta, err := v.Accept(&vendors.Request{Body: c.body})
			if err != nil {
				t.Fatal(err)
			}
			if meta.Auth != c.want || meta.EventKey == "" || meta.EventType == "" {
				t.Fatalf("meta = %+v, want auth %+v", meta, c.want)
			}
		})
	}

	meta, err := v.Accept(&vendors.Request{Body: SampleReceptionBody("a-4", 1, 1700000000000, "third-secret")})
	if !errors.Is(err, vendors.ErrUnauthorized) || meta.EventKey != "" {
		t.Fatalf("a third secret: %+v %v", meta, err)
	}
	for _, none := range []*Vendor{New(), New(""), New("", "")} {
		_, err := none.Accept(&vendors.Request{Body: SampleReceptionBody("a-5", 1, 1700000000000, "")})
		if !errors.Is(err, vendors.ErrUnauthorized) || !strings.Contains(err.Error(), "no app secret is configured") {
			t.Fatalf("no secret: %v", err)
		}
	}
}
