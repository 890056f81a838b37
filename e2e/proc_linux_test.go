package e2e

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal has the kernel send SIGTERM to erpbridge dev when the
// test binary dies (a timeout panic, a kill), so it shuts down its Temporal
// dev server instead of running on unattended.
func setParentDeathSignal(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGTERM
}
