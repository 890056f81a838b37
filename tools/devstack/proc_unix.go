//go:build unix

package devstack

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts the server in a process group of its own, so a Ctrl-C
// meant for the parent does not reach it and Stop can signal all of it.
func setProcessGroup(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	setParentDeathSignal(cmd.SysProcAttr)
}

// signalGroup sends SIGINT, or SIGKILL when kill is set, to the process group
// led by cmd's process.
func signalGroup(cmd *exec.Cmd, kill bool) error {
	if cmd == nil || cmd.Process == nil {
		return nil
	}
	sig := syscall.SIGINT
	if kill {
		sig = syscall.SIGKILL
	}
	err := syscall.Kill(-cmd.Process.Pid, sig)
	if err == syscall.ESRCH {
		return nil
	}
	return err
}
