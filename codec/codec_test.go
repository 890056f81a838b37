package codec

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

const testVIN = "LSVAU2180N2183294"

// repairOrder stands in for a workflow input carrying personal data.
type repairOrder struct {
	OrderID string
	VIN     string
	Plate   string
	Amount  string
	Lines   []string
}

// samplePayloads returns JSON, binary and nil payloads as the default
// converter produces them, plus a payload with metadata and no data.
func samplePayloads(t testing.TB) []*commonpb.Payload {
	t.Helper()
	dc := converter.GetDefaultDataConverter()
	ps, err := dc.ToPayloads(
		repairOrder{OrderID: "RO-1", VIN: testVIN, Plate: "PLATE-001", Amount: "120.50", Lines: []string{"oil", "filter"}},
		[]byte{0x00, 0xff, 0x10, 'b', 'i', 'n'},
		nil,
		"plain string "+testVIN,
	)
	if err != nil {
		t.Fatal(err)
	}
	out := append(ps.Payloads, &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("binary/custom")}})
	if out[2].Data != nil {
		t.Fatalf("expected nil data for the nil payload, got %q", out[2].Data)
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	_, key := newRawKey(t)
	c := NewCodec(mustKeyring(t, key, ""))
	in := samplePayloads(t)

	enc, err := c.Encode(in)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	if len(enc) != len(in) {
		t.Fatalf("Encode returned %d payloads, want %d", len(enc), len(in))
	}
	dec, err := c.Decode(enc)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if len(dec) != len(in) {
		t.Fatalf("Decode returned %d payloads, want %d", len(dec), len(in))
	}
	for i := range in {
		if !proto.Equal(in[i], dec[i]) {
			t.Errorf("payload %d: got %v, want %v", i, dec[i], in[i])
		}
	}
}

func TestEncodedPayloadHidesPlaintext(t *testing.T) {
	_, key := newRawKey(t)
	k := mustKeyring(t, key, "")
	c := NewCodec(k)
	in := samplePayloads(t)

	enc, err := c.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range enc {
		if got := string(p.Metadata[MetadataEncoding]); got != EncodingEncrypted {
			t.Errorf("payload %d encoding = %q, want %q", i, got, EncodingEncrypted)
		}
		if got := string(p.Metadata[MetadataKeyID]); got != k.ActiveKeyID() {
			t.Errorf("payload %d key id = %q, want %q", i, got, k.ActiveKeyID())
		}
		if len(p.Metadata) != 2 {
			t.Errorf("payload %d carries extra metadata in clear: %v", i, p.Metadata)
		}
		for _, secret := range []string{testVIN, "PLATE-001", "json/plain", "binary/custom"} {
			if bytes.Contains(p.Data, []byte(secret)) {
				t.Errorf("payload %d data contains plaintext %q", i, secret)
			}
		}
	}

	again, err := c.Encode(in[:1])
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(again[0].Data, enc[0].Data) {
		t.Fatal("encoding the same payload twice gave the same ciphertext: nonce is not random")
	}
}

func TestDecodePassesThroughUnencrypted(t *testing.T) {
	_, key := newRawKey(t)
	c := NewCodec(mustKeyring(t, key, ""))
	in := samplePayloads(t)
	in = append(in, nil)

	out, err := c.Decode(in)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	for i := range in {
		if out[i] != in[i] {
			t.Errorf("payload %d was changed", i)
		}
	}
}

func TestTamperingIsDetected(t *testing.T) {
	_, keyA := newRawKey(t)
	_, keyB := newRawKey(t)
	k := mustKeyring(t, keyA, keyB)
	otherID := k.KeyIDs()[1]
	c := NewCodec(k)

	fresh := func(t *testing.T) *commonpb.Payload {
		t.Helper()
		enc, err := c.Encode(samplePayloads(t)[:1])
		if err != nil {
			t.Fatal(err)
		}
		return enc[0]
	}

	cases := []struct {
		name    string
		tamper  func(p *commonpb.Payload)
		wantMsg string
	}{
		{"flip ciphertext byte", func(p *commonpb.Payload) { p.Data[len(p.Data)-20] ^= 0x01 }, "authentication failed"},
		{"flip tag byte", func(p *commonpb.Payload) { p.Data[len(p.Data)-1] ^= 0x80 }, "authentication failed"},
		{"flip nonce byte", func(p *commonpb.Payload) { p.Data[0] ^= 0x01 }, "authentication failed"},
		{"swap key id to another known key", func(p *commonpb.Payload) { p.Metadata[MetadataKeyID] = []byte(otherID) }, "authentication failed"},
		{"unknown key id", func(p *commonpb.Payload) { p.Metadata[MetadataKeyID] = []byte("0123456789abcdef") }, `unknown encryption key id "0123456789abcdef"`},
		{"missing key id", func(p *commonpb.Payload) { delete(p.Metadata, MetadataKeyID) }, "no encryption-key-id metadata"},
		{"truncated", func(p *commonpb.Payload) { p.Data = p.Data[:20] }, "too short"},
		{"appended byte", func(p *commonpb.Payload) { p.Data = append(p.Data, 0) }, "authentication failed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := fresh(t)
			tc.tamper(p)
			out, err := c.Decode([]*commonpb.Payload{p})
			if err == nil {
				t.Fatalf("Decode accepted a tampered payload: %v", out)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("error %q does not contain %q", err, tc.wantMsg)
			}
			if strings.Contains(err.Error(), testVIN) {
				t.Fatalf("error %q contains plaintext", err)
			}
		})
	}
}

func TestKeyRotation(t *testing.T) {
	_, oldKey := newRawKey(t)
	_, newKey := newRawKey(t)
	oldRing := mustKeyring(t, oldKey, "")
	in := samplePayloads(t)

	encOld, err := NewCodec(oldRing).Encode(in)
	if err != nil {
		t.Fatal(err)
	}

	rotated := mustKeyring(t, newKey, oldKey)
	rc := NewCodec(rotated)
	dec, err := rc.Decode(encOld)
	if err != nil {
		t.Fatalf("rotated keyring cannot decode old payloads: %v", err)
	}
	for i := range in {
		if !proto.Equal(in[i], dec[i]) {
			t.Errorf("payload %d differs after rotation", i)
		}
	}

	encNew, err := rc.Encode(in[:1])
	if err != nil {
		t.Fatal(err)
	}
	if got := string(encNew[0].Metadata[MetadataKeyID]); got != rotated.ActiveKeyID() || got == oldRing.ActiveKeyID() {
		t.Fatalf("new payloads use key id %q, want the new active key %q", got, rotated.ActiveKeyID())
	}
	if _, err := NewCodec(oldRing).Decode(encNew); err == nil {
		t.Fatal("the old key alone decoded a payload encrypted with the new key")
	}

	_, err = NewCodec(mustKeyring(t, newKey, "")).Decode(encOld)
	if err == nil {
		t.Fatal("keyring without the old key decoded old payloads")
	}
	if !strings.Contains(err.Error(), oldRing.ActiveKeyID()) {
		t.Fatalf("error %q does not name the missing key id %s", err, oldRing.ActiveKeyID())
	}
}

func TestDataConverterRoundTrip(t *testing.T) {
	_, key := newRawKey(t)
	dc := DataConverter(mustKeyring(t, key, ""))
	order := repairOrder{OrderID: "RO-9", VIN: testVIN, Plate: "PLATE-009", Amount: "99.00", Lines: []string{"brake pads"}}

	ps, err := dc.ToPayloads(order, 42, "note")
	if err != nil {
		t.Fatalf("ToPayloads: %v", err)
	}
	for i, p := range ps.Payloads {
		if string(p.Metadata[MetadataEncoding]) != EncodingEncrypted {
			t.Fatalf("payload %d is not encrypted: %v", i, p.Metadata)
		}
		if bytes.Contains(p.Data, []byte(testVIN)) {
			t.Fatalf("payload %d leaks the VIN", i)
		}
	}

	var (
		gotOrder repairOrder
		gotNum   int
		gotNote  string
	)
	if err := dc.FromPayloads(ps, &gotOrder, &gotNum, &gotNote); err != nil {
		t.Fatalf("FromPayloads: %v", err)
	}
	if !reflect.DeepEqual(gotOrder, order) || gotNum != 42 || gotNote != "note" {
		t.Fatalf("round trip gave %+v %d %q", gotOrder, gotNum, gotNote)
	}

	_, otherKey := newRawKey(t)
	if err := DataConverter(mustKeyring(t, otherKey, "")).FromPayloads(ps, &gotOrder, &gotNum, &gotNote); err == nil {
		t.Fatal("a data converter with another key decoded the payloads")
	}
}

func BenchmarkEncodeDecode(b *testing.B) {
	_, key := newRawKey(b)
	c := NewCodec(mustKeyring(b, key, ""))
	for _, size := range []int{1 << 10, 64 << 10} {
		data := bytes.Repeat([]byte("x"), size)
		in := []*commonpb.Payload{{
			Metadata: map[string][]byte{"encoding": []byte("json/plain")},
			Data:     data,
		}}
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				enc, err := c.Encode(in)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := c.Decode(enc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestCodecWithoutKeysFailsCleanly(t *testing.T) {
	_, key := newRawKey(t)
	enc, err := NewCodec(mustKeyring(t, key, "")).Encode(samplePayloads(t))
	if err != nil {
		t.Fatal(err)
	}
	for name, k := range map[string]*Keyring{"nil": nil, "zero": {}} {
		c := NewCodec(k)
		if _, err := c.Encode(samplePayloads(t)); err == nil || !strings.Contains(err.Error(), "no keys") {
			t.Errorf("%s keyring: Encode error = %v, want no keys", name, err)
		}
		if _, err := c.Decode(enc); err == nil {
			t.Errorf("%s keyring: Decode of an encrypted payload succeeded", name)
		}
	}
}
