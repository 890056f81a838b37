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

const (
	seedSecret    = "autox3-test-secret"
	seedSignature = "4614829D6BA454CC04E530EAFA116B31CD5EEF1A" // sha1 computed outside Go over the file's raw field text
	seedMsgID     = "e6ddea1d-0b8b-24e7-cb26-91c3aa0969db"
)

// readSeed is the reception order sample of AutoX3's callback page.
func readSeed(t testing.TB) []byte {
	t.Helper()
	return testkit.ReadFile(t, "testdata/receivebase_create.json")
}

// kv is one top-level member of a hand-written body, value as raw JSON text.
type kv struct{ k, v string }

func body(members ...kv) []byte {
	var b strings.Builder
	b.WriteString("{")
	for i, m := range members {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(jsonString(m.k) + ":" + m.v)
	}
	b.WriteString("}")
	return []byte(b.String())
}

// vectorMembers verify with secret "k": the signature was computed outside Go
// over "m-1" + "t.x" + `{"a":1}` + "1700000000000" + `维修 "ok"` + "k".
func vectorMembers() []kv {
	return []kv{
		{"msgId", `"m-1"`},
		{"msgType", `"t.x"`},
		{"createTime", `1700000000000`},
		{"msgSignature", `"7B405FA5184B7D37E2141A85C0E53D705CEC0742"`},
		{"staffInfo", `{"a":1}`},
		{"content", `"维修 \"ok\""`},
	}
}

func with(members []kv, key, value string) []kv {
	out := append([]kv(nil), members...)
	for i := range out {
		if out[i].k == key {
			out[i].v = value
			return out
		}
	}
	return append(out, kv{key, value})
}

func without(members []kv, key string) []kv {
	var out []kv
	for _, m := range members {
		if m.k != key {
			out = append(out, m)
		}
	}
	return out
}

func TestSeedSampleVerifiesOverRawFieldText(t *testing.T) {
	raw := readSeed(t)
	e, err := ParseEnvelope(raw)
	if err != nil {
		t.Fatalf("parse seed: %v", err)
	}
	if e.MsgID != seedMsgID || e.MsgType != MsgTypeReceptionCreate || e.CreateTime != 1616502610117 {
		t.Fatalf("envelope = %q %q %d", e.MsgID, e.MsgType, e.CreateTime)
	}
	if e.Signature != seedSignature {
		t.Fatalf("signature = %s", e.Signature)
	}
	// The signed staffInfo is the text as laid out in the file, not a re-serialisation.
	if !strings.HasPrefix(e.staffInfoText, "{\n    \"areaCode\": \"+44\",\n    \"brandId\": 114,") ||
		!strings.Contains(e.staffInfoText, `"staffName": "A梦 哆啦"`) {
		t.Fatalf("staffInfo text not kept as received: %q", e.staffInfoText)
	}
	if !bytes.Contains(raw, []byte(e.contentText)) || !strings.Contains(e.contentText, "\"20_发动机故障\",\n") {
		t.Fatalf("content text not kept as received")
	}
	if e.contentIsString {
		t.Fatal("object content reported as a string")
	}
	if _, err := e.Verify(seedSecret); err != nil {
		t.Fatalf("verify seed: %v", err)
	}
	if got := Sign(e.MsgID, e.MsgType, e.staffInfoText, e.createTimeText, e.contentText, seedSecret); got != seedSignature {
		t.Fatalf("Sign = %s, want %s", got, seedSignature)
	}

	// The same values re-serialised (compact, keys sorted) are other text:
	// the signature over the original text no longer matches.
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	reser, _ := json.Marshal(m)
	e2, err := ParseEnvelope(reser)
	if err != nil {
		t.Fatalf("parse re-serialised seed: %v", err)
	}
	if _, err := e2.Verify(seedSecret); !errors.Is(err, vendors.ErrUnauthorized) {
		t.Fatalf("re-serialised seed verified: %v", err)
	}
}

func TestSignKnownVectors(t *testing.T) {
	if got := Sign("m-1", "t.x", `{"a":1}`, "1700000000000", `维修 "ok"`, "k"); got != "7B405FA5184B7D37E2141A85C0E53D705CEC0742" {
		t.Fatalf("Sign = %s", got)
	}
	if got := Sign(seedMsgID, MsgTypeReceptionCreate, "null", "1616502610117", "[1,2]", seedSecret); got != "D66FAF96D9F2C0ED9EB8D74C477851838F693A7F" {
		t.Fatalf("Sign = %s", got)
	}
}

func TestStringContentCountsAsItsDecodedValue(t *testing.T) {
	for name, content := range map[string]string{
		"plain":   `"维修 \"ok\""`,
		"escaped": `"\u7ef4\u4fee \u0022ok\u0022"`,
	} {
		t.Run(name, func(t *testing.T) {
			e := verified(t, body(with(vectorMembers(), "content", content)...), "k", name)
			if !e.contentIsString || e.contentText != `维修 "ok"` {
				t.Fatalf("content = %q (string %v)", []byte(e.contentText), e.contentIsString)
			}
		})
	}

	b := BuildBody("m-1", "t.x", 1700000000000, json.RawMessage(`{"a":1}`), json.RawMessage(`维修 "ok"`), true, "k")
	if !bytes.Contains(b, []byte(`"msgSignature":"7B405FA5184B7D37E2141A85C0E53D705CEC0742"`)) {
		t.Fatalf("BuildBody signature wrong: %s", b)
	}
	if !bytes.HasPrefix(b, []byte(`{"content":"维修 \"ok\"","createTime":1700000000000,"msgId":"m-1","msgSignature":`)) ||
		!bytes.HasSuffix(b, []byte(`,"msgType":"t.x","staffInfo":{"a":1}}`)) {
		t.Fatalf("BuildBody layout: %s", b)
	}
}

func TestNullStaffInfoStringCreateTimeLowercaseSignature(t *testing.T) {
	b := body(
		kv{"staffInfo", "null"},
		kv{"content", "[1,2]"},
		kv{"createTime", `"1616502610117"`},
		kv{"msgSignature", `"d66faf96d9f2c0ed9eb8d74c477851838f693a7f"`},
		kv{"msgType", jsonString(MsgTypeReceptionCreate)},
		kv{"msgId", jsonString(seedMsgID)},
	)
	e := verified(t, b, seedSecret, "null staffInfo, string createTime, lower-case signature")
	if e.CreateTime != 1616502610117 || string(e.StaffInfo) != "null" {
		t.Fatalf("envelope = %d %s", e.CreateTime, e.StaffInfo)
	}
}

func TestSignatureCaseInsensitive(t *testing.T) {
	raw := readSeed(t)
	for _, sig := range []string{seedSignature, strings.ToLower(seedSignature), "4614829d6ba454cc04e530eafa116b31CD5EEF1A"} {
		verified(t, bytes.Replace(raw, []byte(seedSignature), []byte(sig), 1), seedSecret, "signature "+sig)
	}
}

func TestKeyOrderAndSpacing(t *testing.T) {
	staff := "{ \"staffId\" : 380,\n  \"storeId\": 84 }"
	content := "{\"receiveBaseId\":  6482 ,\"carInfo\":{\"carNum\" :\"JING\"}}"
	sig := Sign("m-2", MsgTypeReceptionCreate, staff, "1616502610117", content, "s")
	signed := "  {\n\t\"staffInfo\" :  " + staff + " ,\r\n \"content\":" + content +
		",\"msgSignature\":\"" + sig + "\", \"createTime\" : 1616502610117,\"msgType\":\"" + MsgTypeReceptionCreate +
		"\",\"msgId\":\"m-2\"\n}\n"
	verified(t, []byte(signed), "s", "own text, other layout")

	// Same logical body, its text changed: the signature must fail.
	for name, changed := range map[string]string{
		"content spacing": strings.Replace(signed, `"receiveBaseId":  6482 ,`, `"receiveBaseId":6482,`, 1),
		"staff key order": strings.Replace(signed, "\"staffId\" : 380,\n  \"storeId\": 84", "\"storeId\": 84, \"staffId\" : 380", 1),
		"content order":   strings.Replace(signed, content, `{"carInfo":{"carNum" :"JING"},"receiveBaseId":  6482 }`, 1),
	} {
		t.Run(name, func(t *testing.T) {
			e, err := ParseEnvelope([]byte(changed))
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.Verify("s")
			refused(t, err, vendors.ErrUnauthorized, vendors.ErrMalformed, "msgSignature does not match")
		})
	}

	// The whitespace around a value is not part of it.
	b := BuildBody("m-3", "t.x", 5, json.RawMessage(" {\"a\": 1}\n"), json.RawMessage("\t[ 1 ]"), false, "s")
	verified(t, b, "s", "BuildBody with padded values")
}

func TestParseEnvelopeRefusals(t *testing.T) {
	base := vectorMembers()
	long := strings.Repeat("a", 129)
	cases := []struct {
		name string
		body []byte
		want string
	}{
		{"empty", nil, "body is empty"},
		{"blank", []byte(" \n "), "body is empty"},
		{"invalid utf-8", []byte("{\"msgId\":\"\xff\"}"), "body is not valid UTF-8"},
		{"not json", []byte("msgId=1"), "body is not valid JSON (syntax error at byte 1)"},
		{"truncated", []byte(`{"msgId":"m-1"`), "body is not valid JSON (unexpected end of input)"},
		{"bad member", []byte(`{"msgId" "m-1"}`), "body is not valid JSON"},
		{"array", []byte(`[{"msgId":"m-1"}]`), "body must be a JSON object"},
		{"string", []byte(`"x"`), "body must be a JSON object"},
		{"trailing data", append(body(base...), " x"...), "body has data after the JSON object"},
		{"two objects", append(body(base...), "{}"...), "body has data after the JSON object"},
		{"duplicate key", body(append(base, kv{"msgId", `"m-2"`})...), `duplicate top-level key "msgId"`},
		{"duplicate content", body(append(base, kv{"content", `{}`})...), `duplicate top-level key "content"`},
		{"missing msgId", body(without(base, "msgId")...), "missing field msgId"},
		{"null msgId", body(with(base, "msgId", "null")...), "missing field msgId"},
		{"missing msgType", body(without(base, "msgType")...), "missing field msgType"},
		{"missing createTime", body(without(base, "createTime")...), "missing field createTime"},
		{"missing msgSignature", body(without(base, "msgSignature")...), "missing field msgSignature"},
		{"missing content", body(without(base, "content")...), "missing field content"},
		{"null content", body(with(base, "content", "null")...), "missing field content"},
		{"msgId number", body(with(base, "msgId", "12")...), "field msgId must be a string"},
		{"msgId empty", body(with(base, "msgId", `""`)...), "field msgId must not be empty"},
		{"msgId long", body(with(base, "msgId", `"`+long+`"`)...), "field msgId must be at most 128 characters"},
		{"msgId space", body(with(base, "msgId", `"a b"`)...), "field msgId must contain only printable ASCII characters without spaces"},
		{"msgId control", body(with(base, "msgId", `"a\nb"`)...), "field msgId must contain only printable ASCII"},
		{"msgId non-ascii", body(with(base, "msgId", `"消息1"`)...), "field msgId must contain only printable ASCII"},
		{"msgType object", body(with(base, "msgType", `{}`)...), "field msgType must be a string"},
		{"msgType empty", body(with(base, "msgType", `""`)...), "field msgType must not be empty"},
		{"msgType long", body(with(base, "msgType", `"`+long+`"`)...), "field msgType must be at most 128 characters"},
		{"msgType control", body(with(base, "msgType", `"a\u0000b"`)...), "field msgType must not contain control characters"},
		{"createTime fraction", body(with(base, "createTime", "1.5")...), "field createTime must be an integer epoch-milliseconds timestamp"},
		{"createTime exponent", body(with(base, "createTime", "1e12")...), "field createTime must be an integer epoch-milliseconds timestamp"},
		{"createTime negative", body(with(base, "createTime", "-1")...), "field createTime must be an integer epoch-milliseconds timestamp"},
		{"createTime letters", body(with(base, "createTime", `"12a"`)...), "field createTime must be an integer epoch-milliseconds timestamp"},
		{"createTime empty string", body(with(base, "createTime", `""`)...), "field createTime must be an integer epoch-milliseconds timestamp"},
		{"createTime bool", body(with(base, "createTime", "true")...), "field createTime must be an integer epoch-milliseconds timestamp"},
		{"createTime zero", body(with(base, "createTime", "0")...), "field createTime is out of range"},
		{"createTime overflow", body(with(base, "createTime", "99999999999999999999")...), "field createTime is out of range"},
		{"createTime year 10000", body(with(base, "createTime", "253402300800000")...), "field createTime is out of range"},
		{"signature short", body(with(base, "msgSignature", `"7B405FA5184B7D37E2141A85C0E53D705CEC074"`)...), "field msgSignature must be a string of 40 hexadecimal characters"},
		{"signature not hex", body(with(base, "msgSignature", `"ZB405FA5184B7D37E2141A85C0E53D705CEC0742"`)...), "field msgSignature must be a string of 40 hexadecimal characters"},
		{"signature number", body(with(base, "msgSignature", `1234`)...), "field msgSignature must be a string of 40 hexadecimal characters"},
		{"signature placeholder", body(with(base, "msgSignature", `"${hashCode}"`)...), "field msgSignature must be a string of 40 hexadecimal characters"},
		{"staffInfo array", body(with(base, "staffInfo", `[]`)...), "field staffInfo must be a JSON object"},
		{"staffInfo string", body(with(base, "staffInfo", `"{}"`)...), "field staffInfo must be a JSON object"},
		{"content number", body(with(base, "content", `5`)...), "field content must be a JSON object, array or string"},
		{"content bool", body(with(base, "content", `false`)...), "field content must be a JSON object, array or string"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := ParseEnvelope(c.body)
			if err == nil {
				t.Fatalf("accepted: %+v", e)
			}
			refused(t, err, vendors.ErrMalformed, vendors.ErrUnauthorized, c.want)
		})
	}
}

// verified parses body and verifies it with secret; what names the body
// when either fails.
func verified(t *testing.T, body []byte, secret, what string) *Envelope {
	t.Helper()
	e, err := ParseEnvelope(body)
	if err != nil {
		t.Fatalf("%s: parse: %v", what, err)
	}
	if _, err := e.Verify(secret); err != nil {
		t.Fatalf("%s: verify: %v", what, err)
	}
	return e
}

// refused checks that err is a refusal of the kind want, not of the kind
// other, and says says.
func refused(t *testing.T, err, want, other error, says string) {
	t.Helper()
	switch {
	case !errors.Is(err, want):
		t.Fatalf("error %v, want %v", err, want)
	case errors.Is(err, other):
		t.Fatalf("error %v also wraps %v", err, other)
	case !strings.Contains(err.Error(), says):
		t.Fatalf("error %q, want it to say %q", err, says)
	}
}

func TestParseEnvelopeKeepsUnknownKeysOut(t *testing.T) {
	verified(t, body(append(vectorMembers(), kv{"extra", `{"x":[1]}`}, kv{"MsgId", `"other"`})...), "k", "unknown keys")
}

func TestVerifyRefusals(t *testing.T) {
	base := vectorMembers()
	cases := []struct {
		name    string
		members []kv
		secret  string
		want    string
	}{
		{"no secret", base, "", "no AutoX3 app secret configured"},
		{"wrong secret", base, "K", "msgSignature does not match"},
		{"other signature", with(base, "msgSignature", `"0000000000000000000000000000000000000000"`), "k", "msgSignature does not match"},
		{"msgId changed", with(base, "msgId", `"m-2"`), "k", "msgSignature does not match"},
		{"msgType changed", with(base, "msgType", `"t.y"`), "k", "msgSignature does not match"},
		{"createTime changed", with(base, "createTime", "1700000000001"), "k", "msgSignature does not match"},
		{"createTime as string with other digits", with(base, "createTime", `"01700000000000"`), "k", "msgSignature does not match"},
		{"staffInfo value changed", with(base, "staffInfo", `{"a":2}`), "k", "msgSignature does not match"},
		{"staffInfo key changed", with(base, "staffInfo", `{"b":1}`), "k", "msgSignature does not match"},
		{"staffInfo value quoted", with(base, "staffInfo", `{"a":"1"}`), "k", "msgSignature does not match"},
		{"staffInfo absent", without(base, "staffInfo"), "k", "msgSignature does not match"},
		{"staffInfo null", with(base, "staffInfo", `null`), "k", "msgSignature does not match"},
		{"content changed", with(base, "content", `"维修 ok"`), "k", "msgSignature does not match"},
		{"content as object", with(base, "content", `{"维修":"ok"}`), "k", "msgSignature does not match"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := ParseEnvelope(body(c.members...))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			_, err = e.Verify(c.secret)
			refused(t, err, vendors.ErrUnauthorized, vendors.ErrMalformed, c.want)
		})
	}
	// The base itself verifies, so every refusal above comes from its one change.
	verified(t, body(base...), "k", "base")
}

// sampleBodies are the four sample callbacks, signed with "sec", under
// message ids prefix-1 to prefix-4.
func sampleBodies(prefix string) map[string][]byte {
	return map[string][]byte{
		"reception":      SampleReceptionBody(prefix+"-1", 7001, 1700000000000, "sec"),
		"report":         SampleReportBody(prefix+"-2", 7001, 1700000000000, "sec"),
		"maintenance":    SampleMaintenanceBody(prefix+"-3", 7001, 1700000000000, "sec"),
		"maintenance v2": SampleMaintenanceV2Body(prefix+"-4", 9001, 1700000000000, "sec"),
	}
}

func TestSampleBodiesVerify(t *testing.T) {
	for name, b := range sampleBodies("s") {
		e := verified(t, b, "sec", name)
		if _, err := e.Verify("other"); !errors.Is(err, vendors.ErrUnauthorized) {
			t.Fatalf("%s verified with another secret: %v", name, err)
		}
	}
	e, _ := ParseEnvelope(SampleMaintenanceV2Body("s-4", 9001, 1700000000000, "sec"))
	if !e.contentIsString {
		t.Fatal("v2 sample content is not a JSON string")
	}
	if !bytes.Contains(SampleReceptionBody("s-1", 7001, 1700000000000, "sec"), []byte("20_发动机故障")) {
		t.Fatal("reception sample lost its Chinese text")
	}
}
