package autox3

import "testing"

// BenchmarkVerify is the edge's cost per callback: parse the envelope and check the signature.
func BenchmarkVerify(b *testing.B) {
	body := SampleReceptionBody("bench-msg", 6482, 1616502610117, "bench-secret")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		env, err := ParseEnvelope(body)
		if err != nil {
			b.Fatal(err)
		}
		if err := env.Verify("bench-secret"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecode is the Verify activity's cost: full validation and normalisation.
func BenchmarkDecode(b *testing.B) {
	body := SampleReceptionBody("bench-msg", 6482, 1616502610117, "bench-secret")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(body); err != nil {
			b.Fatal(err)
		}
	}
}
