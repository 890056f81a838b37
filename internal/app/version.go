package app

import (
	"fmt"
	"io"
	"runtime/debug"
)

// version is the release this binary was built as, stamped at link time:
//
//	go build -ldflags "-X github.com/erpbridge/erpbridge/internal/app.version=v1.4.0" ./cmd/erpbridge
var version = "devel"

// printVersion writes the stamped version and what the Go toolchain recorded
// about the build: Go version, platform, the Temporal SDK and, when built
// from a checkout, the commit.
func printVersion(w io.Writer) {
	fmt.Fprintf(w, "erpbridge %s\n", version)
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return
	}
	fmt.Fprintf(w, "  go          %s\n", bi.GoVersion)
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	fmt.Fprintf(w, "  platform    %s/%s\n", settings["GOOS"], settings["GOARCH"])
	if rev := settings["vcs.revision"]; rev != "" {
		if settings["vcs.modified"] == "true" {
			rev += " (modified)"
		}
		fmt.Fprintf(w, "  commit      %s %s\n", rev, settings["vcs.time"])
	}
	for _, d := range bi.Deps {
		if d.Path == "go.temporal.io/sdk" {
			fmt.Fprintf(w, "  temporal    sdk %s\n", d.Version)
		}
	}
}
