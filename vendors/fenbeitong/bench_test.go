package fenbeitong

import "testing"

// BenchmarkParsePush is the edge's cost per push: the checks and the derived key.
func BenchmarkParsePush(b *testing.B) {
	body := SampleBody("5eaab72f23445f46685f8cc8", 700, "2020-04-30 19:32:01")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParsePush(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecode is the Verify activity's cost for a car order.
func BenchmarkDecode(b *testing.B) {
	body := SampleBody("5eaab72f23445f46685f8cc8", 700, "2020-04-30 19:32:01")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(body); err != nil {
			b.Fatal(err)
		}
	}
}
