package autox3

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/internal/testkit"
	"github.com/erpbridge/erpbridge/vendors"
)

// BenchmarkVerify is the edge's cost per callback: parse the envelope and check the signature.
func BenchmarkVerify(b *testing.B) {
	testkit.BenchBody(b, SampleReceptionBody("bench-msg", 6482, 1616502610117, "bench-secret"), func(body []byte) error {
		env, err := ParseEnvelope(body)
		if err != nil {
			return err
		}
		_, err = env.Verify("bench-secret")
		return err
	})
}

// BenchmarkDecode is the Verify activity's cost: full validation and normalisation.
func BenchmarkDecode(b *testing.B) {
	testkit.BenchBody(b, SampleReceptionBody("bench-msg", 6482, 1616502610117, "bench-secret"), func(body []byte) error {
		_, err := Decode(body)
		return err
	})
}

// BenchmarkAcceptVariants is the edge's cost by the variant that verifies:
// as received (the common case, one digest), a pretty-printed body signed
// over its compact text, one signed over \u-escaped text, and a forged
// body, which tries every variant. Two secrets are configured, as during a
// rotation, and the newest signed.
func BenchmarkAcceptVariants(b *testing.B) {
	compact := SampleReceptionBody("bench-msg", 6482, 1616502610117, "bench-secret")
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, compact, "", "    "); err != nil {
		b.Fatal(err)
	}
	env, err := ParseEnvelope(compact)
	if err != nil {
		b.Fatal(err)
	}
	ascii := bytes.Replace(compact, []byte(env.Signature), []byte(Sign(env.MsgID, env.MsgType,
		reescape(env.staffInfoText, true), env.createTimeText, reescape(env.contentText, true), "bench-secret")), 1)
	forged := bytes.Replace(pretty.Bytes(), []byte(env.Signature), []byte(strings.Repeat("0", 40)), 1)
	v := New("bench-secret", "old-secret")
	for _, c := range []struct {
		name    string
		body    []byte
		variant string
	}{
		{"received", compact, VariantReceived},
		{"compact", pretty.Bytes(), VariantCompact},
		{"compact_ascii", ascii, VariantCompactASCII},
		{"forged", forged, ""},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.body)))
			b.ReportAllocs()
			for b.Loop() {
				meta, err := v.Accept(&vendors.Request{Body: c.body})
				if c.variant == "" {
					if !errors.Is(err, vendors.ErrUnauthorized) {
						b.Fatal(err)
					}
				} else if err != nil || meta.Auth.Variant != c.variant {
					b.Fatal(meta, err)
				}
			}
		})
	}
}
