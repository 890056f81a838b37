//go:build unix && !linux

package devstack

import "syscall"

// setParentDeathSignal does nothing where the kernel offers no such signal;
// callers must Stop the server.
func setParentDeathSignal(*syscall.SysProcAttr) {}
