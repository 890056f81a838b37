package config_test

import (
	"slices"
	"testing"

	"github.com/erpbridge/erpbridge/config"
)

func TestDialable(t *testing.T) {
	for addr, want := range map[string]string{
		":8090":          "127.0.0.1:8090",
		"0.0.0.0:8090":   "127.0.0.1:8090",
		"[::]:8090":      "127.0.0.1:8090",
		"10.0.0.5:8090":  "10.0.0.5:8090",
		"[::1]:8090":     "[::1]:8090",
		"erpsim:8090":    "erpsim:8090",
		"not an address": "not an address",
	} {
		if got := config.Dialable(addr); got != want {
			t.Errorf("Dialable(%q) = %q, want %q", addr, got, want)
		}
	}
}

func TestSplitList(t *testing.T) {
	if got := config.SplitList(" a, ,b ,,c "); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("SplitList = %q", got)
	}
	if got := config.SplitList(" , "); got != nil {
		t.Fatalf("SplitList of no entries = %q, want nil", got)
	}
}
