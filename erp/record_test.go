package erp

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestIdempotencyKey(t *testing.T) {
	r := sampleRecord(t)
	key := IdempotencyKey(r)
	if !regexp.MustCompile(`^autox3:reception_order:6482:v1616502610117:[0-9a-f]{12}$`).MatchString(key) {
		t.Fatalf("key = %q, wrong shape", key)
	}
	if again := IdempotencyKey(sampleRecord(t)); again != key {
		t.Fatalf("same state gave %q then %q", key, again)
	}

	spaced := sampleRecord(t)
	spaced.Data = json.RawMessage("{ \"amount\" : \"1234.50\",\n \"tiny\":\"0.000000000000000001\", \"big\":12345678901234567890.10, \"note\":\"<a & b>\" }")
	if got := IdempotencyKey(spaced); got != key {
		t.Fatalf("whitespace changed the key: %q vs %q", got, key)
	}

	changed := sampleRecord(t)
	changed.Data = json.RawMessage(`{"amount":"1234.51","tiny":"0.000000000000000001","big":12345678901234567890.10,"note":"<a & b>"}`)
	if got := IdempotencyKey(changed); got == key {
		t.Fatal("a different state with the same version reused the key")
	}

	newer := sampleRecord(t)
	newer.Version++
	if got := IdempotencyKey(newer); got == key || !strings.Contains(got, ":v1616502610118:") {
		t.Fatalf("newer version key = %q", got)
	}
}

func TestIdempotencyKeyHoldsNoContent(t *testing.T) {
	r := sampleRecord(t)
	r.Data = json.RawMessage(`{"owner":"Zhang San","phone":"13800138000","plate":"ABC123"}`)
	key := IdempotencyKey(r)
	for _, personal := range []string{"Zhang", "13800138000", "ABC123"} {
		if strings.Contains(key, personal) {
			t.Fatalf("key %q contains record content %q", key, personal)
		}
	}
	if len(key) != len("autox3:reception_order:6482:v1616502610117:")+12 {
		t.Fatalf("key %q has unexpected length", key)
	}
}

func TestIdempotencyKeyEscapesSeparators(t *testing.T) {
	a := sampleRecord(t)
	a.Kind, a.ExternalID = "x:y", "z"
	b := sampleRecord(t)
	b.Kind, b.ExternalID = "x", "y:z"
	ka, kb := IdempotencyKey(a), IdempotencyKey(b)
	if ka == kb {
		t.Fatalf("keys collide: %q", ka)
	}
	if !strings.HasPrefix(ka, "autox3:x%3Ay:z:") || !strings.HasPrefix(kb, "autox3:x:y%3Az:") {
		t.Fatalf("keys = %q, %q", ka, kb)
	}
	c := sampleRecord(t)
	c.ExternalID = "a b\r\n"
	if kc := IdempotencyKey(c); !strings.Contains(kc, ":a%20b%0D%0A:") {
		t.Fatalf("key = %q, want control characters escaped", kc)
	}
}

func TestRecordJSONKeepsOffset(t *testing.T) {
	r := sampleRecord(t)
	r.OccurredAt = time.Date(2021, 3, 23, 20, 30, 10, 500_000_000, time.FixedZone("CST", 8*3600))
	body, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), `"occurred_at":"2021-03-23T20:30:10.5+08:00"`) {
		t.Fatalf("body = %s", body)
	}
	var back Record
	if err := json.Unmarshal(body, &back); err != nil {
		t.Fatal(err)
	}
	if !back.OccurredAt.Equal(r.OccurredAt) || back.Version != r.Version || string(back.Data) != string(r.Data) {
		t.Fatalf("round trip = %+v", back)
	}
}

func TestLabel(t *testing.T) {
	if got := sampleRecord(t).Label(); got != "autox3/reception_order/6482 v1616502610117" {
		t.Fatalf("Label = %q", got)
	}
}

func TestDocumentNumber(t *testing.T) {
	cases := []struct {
		source, kind, id, want string
	}{
		{"autox3", "reception_order", "6482", "AX3-RO-6482"},
		{"fenbeitong", "car_order", "5f3b1c2d9e8a7b6c5d4e3f20", "FBT-CAR-5f3b1c2d9e8a7b6c5d4e3f20"},
		{"acme", "thing", "a.b_c-1", "ACME-THING-a.b_c-1"},
	}
	for _, c := range cases {
		if got := DocumentNumber(Record{Source: c.source, Kind: c.kind, ExternalID: c.id}); got != c.want {
			t.Errorf("DocumentNumber(%s/%s/%s) = %q, want %q", c.source, c.kind, c.id, got, c.want)
		}
	}
	// Ids that are long or not plain are hashed, and still one number per record.
	for _, id := range []string{strings.Repeat("9", 60), "保养 项目", "a b", "x'y"} {
		r := Record{Source: "autox3", Kind: "maintenance_plan_item", ExternalID: id}
		got := DocumentNumber(r)
		if !regexp.MustCompile(`^AX3-MP-~[0-9a-f]{20}$`).MatchString(got) || len(got) > maxNumberBytes {
			t.Errorf("DocumentNumber(%q) = %q, want AX3-MP-~ and 20 hex digits", id, got)
		}
		if again := DocumentNumber(r); again != got {
			t.Errorf("DocumentNumber(%q) gave %q then %q", id, got, again)
		}
	}
	a := DocumentNumber(Record{Source: "autox3", Kind: "reception_order", ExternalID: "x y"})
	b := DocumentNumber(Record{Source: "autox3", Kind: "inspection_report", ExternalID: "x y"})
	if a[len("AX3-RO-"):] == b[len("AX3-IR-"):] {
		t.Errorf("two records' hashed ids are equal: %q, %q", a, b)
	}
}
