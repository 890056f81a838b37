package cluster_test

import (
	"debug/buildinfo"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/erpbridge/erpbridge/internal/testenv"
)

// The cluster runs the Temporal server the pinned CLI embeds as its dev
// server, so the dev server and the cluster behave alike.
func TestServerPinMatchesTheCLI(t *testing.T) {
	mk, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^TEMPORAL_SERVER_VERSION\s*:=\s*(\S+)`).FindSubmatch(mk)
	if m == nil {
		t.Fatal("TEMPORAL_SERVER_VERSION is not in the Makefile")
	}
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
			if dep.Version != "v"+string(m[1]) {
				t.Fatalf("the CLI embeds server %s, the Makefile pins %s", dep.Version, m[1])
			}
			return
		}
	}
	t.Fatalf("%s does not embed go.temporal.io/server", cli)
}
