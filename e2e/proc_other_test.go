//go:build !linux

package e2e

import "os/exec"

// setParentDeathSignal does nothing where the kernel has no parent-death
// signal; the test's cleanup still stops erpbridge dev.
func setParentDeathSignal(*exec.Cmd) {}
