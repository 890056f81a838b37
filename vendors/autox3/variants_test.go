package autox3

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/vendors"
)

// variantSignatures signs each canonical text of the envelope with secret.
func variantSignatures(e *Envelope, secret string) []string {
	var out []string
	for c := range e.candidates() {
		out = append(out, Sign(e.MsgID, e.MsgType, c.staff, e.createTimeText, c.content, secret))
	}
	return out
}

// signedBody is a body whose staffInfo and content are sent as staffSent and
// contentSent (raw JSON; staffSent "" leaves staffInfo out) but whose
// signature was computed over staffSigned and contentSigned, as a sender
// that serialises twice, or a proxy that re-writes the body, produces.
func signedBody(staffSent, contentSent, staffSigned, contentSigned, secret string) []byte {
	members := []kv{
		{"msgId", `"m-1"`},
		{"msgType", `"t.x"`},
		{"createTime", `1700000000000`},
		{"msgSignature", jsonString(Sign("m-1", "t.x", staffSigned, "1700000000000", contentSigned, secret))},
		{"content", contentSent},
	}
	if staffSent != "" {
		members = append(members, kv{"staffInfo", staffSent})
	}
	return body(members...)
}

func TestVariantsAreFixed(t *testing.T) {
	want := []string{
		"received", "received_staff_empty", "compact", "compact_staff_empty",
		"compact_utf8", "compact_utf8_staff_empty", "compact_ascii", "compact_ascii_staff_empty",
	}
	if got := Variants(); !slices.Equal(got, want) {
		t.Fatalf("Variants() = %q, want %q", got, want)
	}
}

// Each variant verifies with the right secret, names itself, and is refused
// with a wrong one. The signed texts are written out by hand here, not
// computed by the code under test.
func TestEachVariantVerifies(t *testing.T) {
	cases := []struct {
		name                       string
		staffSent, contentSent     string
		staffSigned, contentSigned string
		variant                    string
	}{
		{"as received", `{"a": 1}`, `{"b": "维修"}`, `{"a": 1}`, `{"b": "维修"}`, VariantReceived},
		{"as received, string content", `{"a":1}`, `"维修 \"ok\""`, `{"a":1}`, `维修 "ok"`, VariantReceived},
		{"pretty-printed, compact signed", "{\n  \"a\": 1,\n  \"z\": [ 1, 2 ]\n}", "{\n\t\"b\" : \"维 修\"\r\n}",
			`{"a":1,"z":[1,2]}`, `{"b":"维 修"}`, VariantCompact},
		{"escapes kept by compacting", `{ "a": "\u7EF4" }`, `{ "b": "x\/y" }`, `{"a":"\u7EF4"}`, `{"b":"x\/y"}`, VariantCompact},
		{"\\u escapes received, raw UTF-8 signed", `{"a":"\u7ef4\u4fee"}`, `{"b":"\u7EF4 \"q\" \u00e9"}`,
			`{"a":"维修"}`, `{"b":"维 \"q\" é"}`, VariantCompactUTF8},
		{"\\/ received, / signed", `{"a":"x\/y"}`, `{"b":"<\/p> \u0026"}`, `{"a":"x/y"}`, `{"b":"</p> &"}`, VariantCompactUTF8},
		{"control escapes normalised", `{"a":"\u000a\u0009\u001f"}`, `{"b":"\u0008\u000C"}`, `{"a":"\n\t\u001F"}`, `{"b":"\b\f"}`, VariantCompactUTF8},
		{"keys re-escaped too", `{"\u7ef4":1}`, `{"b":2}`, `{"维":1}`, `{"b":2}`, VariantCompactUTF8},
		{"raw UTF-8 received, \\u escapes signed", `{"a": "维修"}`, `{"b":"é 🚗"}`,
			`{"a":"\u7EF4\u4FEE"}`, `{"b":"\u00E9 \uD83D\uDE97"}`, VariantCompactASCII},
		{"lower-case \\u received, upper-case signed", `{"a":"\u7ef4"}`, `{"b":1}`, `{"a":"\u7EF4"}`, `{"b":1}`, VariantCompactASCII},
		{"staffInfo absent, null signed", "", `{"b":1}`, "null", `{"b":1}`, VariantReceived},
		{"staffInfo absent, empty signed", "", `{"b":1}`, "", `{"b":1}`, VariantReceived + staffEmptySuffix},
		{"staffInfo null, null signed", "null", `{"b":1}`, "null", `{"b":1}`, VariantReceived},
		{"staffInfo null, empty signed", "null", `{"b":1}`, "", `{"b":1}`, VariantReceived + staffEmptySuffix},
		{"staffInfo absent, empty signed, pretty content", "", `{ "b": 1 }`, "", `{"b":1}`, VariantCompact + staffEmptySuffix},
		{"staffInfo null, null signed, escaped content", "null", `{"b":"\u7ef4"}`, "null", `{"b":"维"}`, VariantCompactUTF8},
		{"staffInfo absent, empty signed, ASCII content", "", `{"b":"维"}`, "", `{"b":"\u7EF4"}`, VariantCompactASCII + staffEmptySuffix},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := ParseEnvelope(signedBody(c.staffSent, c.contentSent, c.staffSigned, c.contentSigned, "right"))
			if err != nil {
				t.Fatal(err)
			}
			m, err := e.Verify("right")
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if m.Variant != c.variant || m.Secret != 0 {
				t.Fatalf("match = %+v, want variant %s, secret 0", m, c.variant)
			}
			if !slices.Contains(Variants(), m.Variant) {
				t.Fatalf("variant %q is not one of Variants()", m.Variant)
			}
			_, err = e.Verify("wrong")
			if !errors.Is(err, vendors.ErrUnauthorized) || !strings.Contains(err.Error(), "msgSignature does not match") {
				t.Fatalf("wrong secret: %v", err)
			}
		})
	}
}

// What no variant repairs stays refused, even with the right secret.
func TestVariantsDoNotRepairOtherChanges(t *testing.T) {
	cases := []struct {
		name                       string
		staffSent, contentSent     string
		staffSigned, contentSigned string
	}{
		{"key order", `{"a":1,"b":2}`, `{}`, `{"b":2,"a":1}`, `{}`},
		{"spaces inside a string", `{"a":"x y"}`, `{}`, `{"a":"xy"}`, `{}`},
		{"number written otherwise", `{"a":1.0}`, `{}`, `{"a":1}`, `{}`},
		{"signed pretty, sent compact", `{"a":1}`, `{}`, `{"a": 1}`, `{}`},
		{"signed with \\/, sent with /", `{"a":"x/y"}`, `{}`, `{"a":"x\/y"}`, `{}`},
		{"lower-case \\u signed", `{"a":"维"}`, `{}`, `{"a":"\u7ef4"}`, `{}`},
		{"HTML escapes signed", `{"a":"<&>"}`, `{}`, `{"a":"\u003c\u0026\u003e"}`, `{}`},
		{"staffInfo present, null signed", `{"a":1}`, `{}`, "null", `{}`},
		{"staffInfo present, empty signed", `{"a":1}`, `{}`, "", `{}`},
		{"staffInfo absent, {} signed", "", `{}`, "{}", `{}`},
		{"only content compacted, staff signed pretty", `{"a": 1}`, `{ "b": 1 }`, `{"a": 1}`, `{"b":1}`},
		{"string content compacted", `{"a":1}`, `"{ \"b\": 1 }"`, `{"a":1}`, `{"b":1}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := ParseEnvelope(signedBody(c.staffSent, c.contentSent, c.staffSigned, c.contentSigned, "right"))
			if err != nil {
				t.Fatal(err)
			}
			if m, err := e.Verify("right"); !errors.Is(err, vendors.ErrUnauthorized) {
				t.Fatalf("verified as %+v (%v)", m, err)
			}
		})
	}
}

// Signatures computed outside Go (Python's hashlib over the texts written
// out), so the canonical texts are checked byte for byte.
func TestVariantKnownVectors(t *testing.T) {
	// sha1("m-1" + "t.x" + `{"name":"\u7EF4\u4FEE"}` + "1700000000000" + `{"a":[1,2],"b":"\uD83D\uDE97 x/y"}` + "k")
	m := with(vectorMembers(), "staffInfo", "{ \"name\": \"维修\" }")
	m = with(m, "content", `{"a": [1, 2], "b": "🚗 x\/y"}`)
	m = with(m, "msgSignature", `"BEC1C5529B3CD23BB3B4B47B8235F5104ECA1436"`)
	e, err := ParseEnvelope(body(m...))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := e.Verify("k"); err != nil || got.Variant != VariantCompactASCII {
		t.Fatalf("vector A: %+v %v", got, err)
	}

	// sha1("m-1" + "t.x" + "" + "1700000000000" + `{"a":[1,2],"b":"维修"}` + "k"), staffInfo absent.
	m = with(without(vectorMembers(), "staffInfo"), "content", "{ \"a\": [1, 2], \"b\": \"\\u7ef4\\u4fee\" }")
	m = with(m, "msgSignature", `"ef5bcf3b3af5012472811aafca57b21779bb2067"`)
	e, err = ParseEnvelope(body(m...))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := e.Verify("k"); err != nil || got.Variant != VariantCompactUTF8+staffEmptySuffix {
		t.Fatalf("vector B: %+v %v", got, err)
	}
}

// A realistic case: AutoX3's compact sample body pretty-printed on its way
// (json.Indent, as a proxy or a logging relay would), signed over the compact text.
func TestPrettyPrintedSampleVerifiesAsCompact(t *testing.T) {
	for name, compact := range sampleBodies("p") {
		t.Run(name, func(t *testing.T) {
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, compact, "", "    "); err != nil {
				t.Fatal(err)
			}
			e, err := ParseEnvelope(pretty.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			// (The v2 content is a JSON string, the same in every variant;
			// its staffInfo object was re-spaced.)
			if m, err := e.Verify("sec"); err != nil || m.Variant != VariantCompact {
				t.Fatalf("Verify = %+v %v, want %s", m, err, VariantCompact)
			}
			if _, err := e.Verify("other"); !errors.Is(err, vendors.ErrUnauthorized) {
				t.Fatalf("another secret: %v", err)
			}
			if ev, err := Decode(pretty.Bytes()); err != nil || ev.EventKey != e.MsgID {
				t.Fatalf("Decode of the pretty body: %v", err)
			}
		})
	}
}

// Rotation: any listed secret verifies, its position is reported, empty
// entries are skipped, and a secret not listed is refused.
func TestVerifySecretRotation(t *testing.T) {
	old := SampleReceptionBody("r-1", 7001, 1700000000000, "old-secret")
	cur := SampleReceptionBody("r-2", 7001, 1700000000000, "new-secret")
	third := SampleReceptionBody("r-3", 7001, 1700000000000, "third-secret")
	secrets := []string{"new-secret", "", "old-secret"}
	for _, c := range []struct {
		name   string
		body   []byte
		secret int
	}{{"new", cur, 0}, {"old", old, 2}} {
		e, err := ParseEnvelope(c.body)
		if err != nil {
			t.Fatal(err)
		}
		if m, err := e.Verify(secrets...); err != nil || m.Secret != c.secret || m.Variant != VariantReceived {
			t.Fatalf("%s secret: %+v %v", c.name, m, err)
		}
	}
	e, err := ParseEnvelope(third)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Verify(secrets...); !errors.Is(err, vendors.ErrUnauthorized) {
		t.Fatalf("a third secret: %v", err)
	}
	for _, none := range [][]string{nil, {""}, {"", ""}} {
		if _, err := e.Verify(none...); !errors.Is(err, vendors.ErrUnauthorized) || !strings.Contains(err.Error(), "no AutoX3 app secret configured") {
			t.Fatalf("secrets %q: %v", none, err)
		}
	}

	// A pretty-printed body signed with the old secret: the variant and the position together.
	var pretty bytes.Buffer
	_ = json.Indent(&pretty, old, "", "  ")
	e, err = ParseEnvelope(pretty.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if m, err := e.Verify(secrets...); err != nil || m.Secret != 2 || m.Variant != VariantCompact {
		t.Fatalf("pretty body, old secret: %+v %v", m, err)
	}
}

// Variants are computed lazily and only when they differ: a compact body
// with nothing to escape is one text, so a forged one costs one digest per
// secret, and one signed as received never computes another form.
func TestCandidatesAreDistinctAndLazy(t *testing.T) {
	count := func(b []byte) []string {
		t.Helper()
		e, err := ParseEnvelope(b)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for c := range e.candidates() {
			names = append(names, c.variant)
		}
		return names
	}
	cases := []struct {
		name string
		body []byte
		want []string
	}{
		{"compact ASCII", signedBody(`{"a":1}`, `{"b":"x"}`, "", "", "k"), []string{"received"}},
		{"compact with raw UTF-8", signedBody(`{"a":1}`, `{"b":"维"}`, "", "", "k"), []string{"received", "compact_ascii"}},
		{"pretty ASCII", signedBody(`{ "a": 1 }`, `{"b":"x"}`, "", "", "k"), []string{"received", "compact"}},
		{"pretty with escapes", signedBody(`{ "a": "\u7ef4" }`, `{"b":"x"}`, "", "", "k"),
			[]string{"received", "compact", "compact_utf8", "compact_ascii"}},
		{"staffInfo absent", signedBody("", `{"b":"x"}`, "", "", "k"), []string{"received", "received_staff_empty"}},
		{"string content, staffInfo absent", signedBody("", `"{ \"b\": \"\\u7ef4\" }"`, "", "", "k"), []string{"received", "received_staff_empty"}},
	}
	for _, c := range cases {
		if got := count(c.body); !slices.Equal(got, c.want) {
			t.Errorf("%s: candidates %q, want %q", c.name, got, c.want)
		}
	}

	// Stopping early computes nothing further.
	e, err := ParseEnvelope(signedBody(`{ "a": "\u7ef4" }`, `{"b":"x"}`, "", "", "k"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for range e.candidates() {
		n++
		break
	}
	if n != 1 {
		t.Fatalf("yielded %d after a break", n)
	}
}

func TestReescape(t *testing.T) {
	cases := []struct{ in, utf8, ascii string }{
		{`{"a":"plain"}`, `{"a":"plain"}`, `{"a":"plain"}`},
		{`{"a":"维修"}`, `{"a":"维修"}`, `{"a":"\u7EF4\u4FEE"}`},
		{`{"a":"\u7ef4\u4FEE"}`, `{"a":"维修"}`, `{"a":"\u7EF4\u4FEE"}`},
		{`["\/","\"","\\"]`, `["/","\"","\\"]`, `["/","\"","\\"]`},
		{`["\u0008\u000c\u000A\u000d\u0009","\u0000\u001f\u007f"]`, `["\b\f\n\r\t","\u0000\u001F` + "\x7f" + `"]`, `["\b\f\n\r\t","\u0000\u001F` + "\x7f" + `"]`},
		{`{"<&>":"\u003c\u0026\u003e"}`, `{"<&>":"<&>"}`, `{"<&>":"<&>"}`},
		{`["\u2028\u2029","é","🚗","\ud83d\ude97"]`, `["` + "\u2028\u2029" + `","é","🚗","🚗"]`, `["\u2028\u2029","\u00E9","\uD83D\uDE97","\uD83D\uDE97"]`},
		{`{"k":1.50,"n":null,"t":true,"e":-1e+3}`, `{"k":1.50,"n":null,"t":true,"e":-1e+3}`, `{"k":1.50,"n":null,"t":true,"e":-1e+3}`},
	}
	for _, c := range cases {
		if got := reescape(c.in, false); got != c.utf8 {
			t.Errorf("reescape(%s, utf8) = %s, want %s", c.in, got, c.utf8)
		}
		if got := reescape(c.in, true); got != c.ascii {
			t.Errorf("reescape(%s, ascii) = %s, want %s", c.in, got, c.ascii)
		}
	}
	// Lone surrogates decode as encoding/json decodes them (U+FFFD), and
	// writing a form again changes nothing.
	for _, in := range []string{`["\ud83d"]`, `["\ud83d\u0041"]`, `["\ud83d\ud83d\ude97"]`, `["\ude97x"]`} {
		var want []string
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatal(err)
		}
		for _, ascii := range []bool{false, true} {
			out := reescape(in, ascii)
			var got []string
			if err := json.Unmarshal([]byte(out), &got); err != nil || !slices.Equal(got, want) {
				t.Errorf("reescape(%s, %v) = %s: %q, want %q (%v)", in, ascii, out, got, want, err)
			}
			if again := reescape(out, ascii); again != out {
				t.Errorf("reescape(%s) again = %s", out, again)
			}
		}
	}
	if got := compactText("{ \"a\" :\n [ 1 , \"x  y\" ]\t}"); got != `{"a":[1,"x  y"]}` {
		t.Errorf("compactText = %s", got)
	}
}
