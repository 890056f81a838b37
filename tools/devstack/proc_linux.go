package devstack

import "syscall"

// setParentDeathSignal has the kernel kill the server when the process that
// started it dies, so a crashed or timed-out test binary leaves nothing behind.
func setParentDeathSignal(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGKILL }
