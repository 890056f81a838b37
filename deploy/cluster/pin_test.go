package cluster_test

import (
	"debug/buildinfo"
	"os"
	"path/filepath"
	"testing"

	"github.com/erpbridge/erpbridge/internal/testenv"
	"github.com/erpbridge/erpbridge/internal/testkit"
)

// The cluster runs the Temporal server the pinned CLI embeds as its dev
// server, so the dev server and the cluster behave alike.
func TestServerPinMatchesTheCLI(t *testing.T) {
	pinned := testkit.MakeVariable(t, "../../Makefile", "TEMPORAL_SERVER_VERSION")
	cli := filepath.Join(testenv.TemporalBinDir(), "temporal")
	if _, err := os.Stat(cli); err != nil {
		if testing.Short() {
			t.Skip("no bin/temporal")
		}
		cli = testenv.TemporalCLI(t)
	}
	info, err := buildinfo.ReadFile(cli)
	if err != nil {
		t.Fatalf("read the build of %s: %v", cli, err)
	}
	for _, dep := range info.Deps {
		if dep.Path == "go.temporal.io/server" {
			if dep.Version != "v"+pinned {
				t.Fatalf("the CLI embeds server %s, the Makefile pins %s", dep.Version, pinned)
			}
			return
		}
	}
	t.Fatalf("%s does not embed go.temporal.io/server", cli)
}
