// Package devstack runs the local Temporal pieces that the dev command and the
// integration tests need: it finds or builds the pinned Temporal CLI and runs
// its development server in a process group of its own, waiting until the
// frontend really answers before handing it over.
package devstack

import (
	"fmt"
	"net"
	"runtime"
)

// TemporalCLIVersion is the Temporal CLI release the project is tested with.
const TemporalCLIVersion = "1.5.1"

// TemporalCLIModule is the Go package that builds the Temporal CLI.
const TemporalCLIModule = "github.com/temporalio/cli/cmd/temporal"

// FreePort returns a TCP port on 127.0.0.1 that nothing listens on.
//
// On Linux the port is left in TIME_WAIT by a closed connection, so the kernel
// does not hand it out again for a while, yet an explicit bind to it (with
// SO_REUSEADDR, which Go and the Temporal server set) still succeeds.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		return 0, fmt.Errorf("find a free port: unexpected listener address %v", l.Addr())
	}
	if runtime.GOOS == "linux" {
		c, err := net.DialTCP("tcp", nil, addr)
		if err != nil {
			return 0, fmt.Errorf("find a free port: reserve %d: %w", addr.Port, err)
		}
		s, err := l.Accept()
		if err != nil {
			c.Close()
			return 0, fmt.Errorf("find a free port: reserve %d: %w", addr.Port, err)
		}
		// Closing the server side first is what puts the port in TIME_WAIT.
		s.Close()
		c.Close()
	}
	return addr.Port, nil
}
