package autox3

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/vendors"
)

func FuzzParseEnvelope(f *testing.F) {
	if seed, err := os.ReadFile("testdata/receivebase_create.json"); err == nil {
		f.Add(seed)
	}
	f.Add(SampleReceptionBody("f-1", 1, 1700000000000, "k"))
	f.Add(SampleReportBody("f-2", 1, 1700000000000, "k"))
	f.Add(SampleMaintenanceBody("f-3", 1, 1700000000000, "k"))
	f.Add(SampleMaintenanceV2Body("f-4", 1, 1700000000000, "k"))
	f.Add(body(vectorMembers()...))
	f.Add(body(with(vectorMembers(), "createTime", `"0017"`)...))
	f.Add([]byte(`{"msgId":"a","msgId":"b"}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`[`))

	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseEnvelope(b)
		if err != nil {
			if !errors.Is(err, vendors.ErrMalformed) {
				t.Fatalf("refusal %v does not wrap ErrMalformed", err)
			}
			if _, derr := Decode(b); derr == nil {
				t.Fatal("Decode accepted a body ParseEnvelope refused")
			}
			return
		}

		// Signing the envelope's own text makes it verify, whatever the case
		// of the hex; only a signature over one of its variants verifies.
		sig := Sign(e.MsgID, e.MsgType, e.staffInfoText, e.createTimeText, e.contentText, "fuzz")
		if m, err := e.Verify("fuzz"); err == nil && !slices.ContainsFunc(variantSignatures(e, "fuzz"), func(s string) bool {
			return strings.EqualFold(e.Signature, s)
		}) {
			t.Fatalf("verified as %s with a signature over none of the envelope's variants", m.Variant)
		}
		e.Signature = sig
		if m, err := e.Verify("fuzz"); err != nil || m.Variant != VariantReceived {
			t.Fatalf("own signature: %+v %v", m, err)
		}
		e.Signature = strings.ToLower(sig)
		if _, err := e.Verify("fuzz"); err != nil {
			t.Fatalf("lower-case signature refused: %v", err)
		}
		if _, err := e.Verify("other"); !errors.Is(err, vendors.ErrUnauthorized) {
			t.Fatalf("another secret: %v", err)
		}
		// Every variant's signature verifies as that variant, or as an
		// earlier one with the same text, and never with another secret.
		for c := range e.candidates() {
			// Every variant is the same JSON value as the text received.
			if !e.staffNull {
				sameJSON(t, c.variant+" staffInfo", e.staffInfoText, c.staff)
			}
			if !e.contentIsString {
				sameJSON(t, c.variant+" content", e.contentText, c.content)
			}
			e.Signature = Sign(e.MsgID, e.MsgType, c.staff, e.createTimeText, c.content, "fuzz")
			if m, err := e.Verify("old", "fuzz"); err != nil || m.Variant != c.variant || m.Secret != 1 {
				t.Fatalf("variant %s: %+v %v", c.variant, m, err)
			}
			if _, err := e.Verify("other"); !errors.Is(err, vendors.ErrUnauthorized) {
				t.Fatalf("variant %s with another secret: %v", c.variant, err)
			}
		}

		// Rebuilt by BuildBody, the same values parse and verify again.
		content := json.RawMessage(e.Content)
		if e.contentIsString {
			content = []byte(e.contentText)
		}
		rebuilt := BuildBody(e.MsgID, e.MsgType, e.CreateTime, e.StaffInfo, content, e.contentIsString, "fuzz")
		e2, err := ParseEnvelope(rebuilt)
		if err != nil {
			t.Fatalf("rebuilt body refused: %v\n%s", err, rebuilt)
		}
		if _, err := e2.Verify("fuzz"); err != nil {
			t.Fatalf("rebuilt body does not verify: %v", err)
		}
		if e2.MsgID != e.MsgID || e2.MsgType != e.MsgType || e2.CreateTime != e.CreateTime ||
			e2.contentText != e.contentText || e2.contentIsString != e.contentIsString {
			t.Fatal("rebuilt body differs")
		}

		// Decoding an accepted envelope never panics and fails only on content.
		ev, err := Decode(b)
		if err != nil {
			var ce *vendors.ContentError
			if !errors.As(err, &ce) {
				t.Fatalf("Decode of an accepted envelope: %v", err)
			}
			return
		}
		if ev.EventKey != e.MsgID || ev.Version != e.CreateTime {
			t.Fatalf("event = %+v", ev)
		}
		if _, err := json.Marshal(ev.Data); err != nil {
			t.Fatalf("data does not marshal: %v", err)
		}
	})
}

// sameJSON fails unless a and b are the same JSON value, numbers as written.
func sameJSON(t *testing.T, what, a, b string) {
	t.Helper()
	decode := func(s string) any {
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("%s: %v in %q", what, err, s)
		}
		return v
	}
	if !reflect.DeepEqual(decode(a), decode(b)) {
		t.Fatalf("%s: %q is not the value of %q", what, b, a)
	}
}
