//go:build !unix

package devstack

import (
	"os"
	"os/exec"
)

// setProcessGroup does nothing where process groups are not available.
func setProcessGroup(*exec.Cmd) {}

// signalGroup interrupts, or kills when kill is set, the server process itself.
func signalGroup(cmd *exec.Cmd, kill bool) error {
	if cmd == nil || cmd.Process == nil {
		return nil
	}
	if kill {
		return cmd.Process.Kill()
	}
	return cmd.Process.Signal(os.Interrupt)
}
