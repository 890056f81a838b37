package devstack_test

import (
	"bytes"
	"os"
	"regexp"
	"testing"

	"github.com/erpbridge/erpbridge/tools/devstack"
)

// TestPinnedCLIVersionEverywhere keeps the Makefile, which CI uses to install
// the CLI, on the version the code looks for.
func TestPinnedCLIVersionEverywhere(t *testing.T) {
	mk, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^TEMPORAL_CLI_VERSION\s*:=\s*(\S+)`).FindSubmatch(mk)
	if m == nil || string(m[1]) != devstack.TemporalCLIVersion {
		t.Errorf("Makefile TEMPORAL_CLI_VERSION = %q, want %s", m, devstack.TemporalCLIVersion)
	}
	if !bytes.Contains(mk, []byte("TEMPORAL_CLI_PKG     := "+devstack.TemporalCLIModule)) {
		t.Errorf("Makefile does not install %s", devstack.TemporalCLIModule)
	}
	st, err := os.Stat("../../.ci/run")
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode()&0o111 == 0 {
		t.Errorf(".ci/run is not executable: %v", st.Mode())
	}
}
