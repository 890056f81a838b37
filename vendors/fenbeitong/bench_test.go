package fenbeitong

import (
	"testing"

	"github.com/erpbridge/erpbridge/internal/testkit"
)

// BenchmarkParsePush is the edge's cost per push: the checks and the derived key.
func BenchmarkParsePush(b *testing.B) {
	testkit.BenchBody(b, SampleBody("5eaab72f23445f46685f8cc8", 700, "2020-04-30 19:32:01"), func(body []byte) error {
		_, err := ParsePush(body)
		return err
	})
}

// BenchmarkDecode is the Verify activity's cost for a car order.
func BenchmarkDecode(b *testing.B) {
	testkit.BenchBody(b, SampleBody("5eaab72f23445f46685f8cc8", 700, "2020-04-30 19:32:01"), func(body []byte) error {
		_, err := Decode(body)
		return err
	})
}
