package devstack_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/erpbridge/erpbridge/internal/testkit"
	"github.com/erpbridge/erpbridge/tools/devstack"
)

// TestPinnedCLIVersionEverywhere keeps the Makefile, which CI uses to install
// the CLI, on the version the code looks for.
func TestPinnedCLIVersionEverywhere(t *testing.T) {
	if v := testkit.MakeVariable(t, "../../Makefile", "TEMPORAL_CLI_VERSION"); v != devstack.TemporalCLIVersion {
		t.Errorf("Makefile TEMPORAL_CLI_VERSION = %q, want %s", v, devstack.TemporalCLIVersion)
	}
	mk := testkit.ReadFile(t, "../../Makefile")
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
