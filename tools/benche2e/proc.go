package main

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's CPU times (100 on Linux).
const clockTicks = 100

// procStat is a process's parent and CPU seconds (user + system) from /proc.
func procStat(pid int) (ppid int, cpu float64, ok bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, 0, false
	}
	// The command name may hold spaces; the fields after its ")" are fixed.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, 0, false
	}
	ppid, _ = strconv.Atoi(f[1])
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return ppid, (utime + stime) / clockTicks, true
}

// childrenCPU is the CPU seconds used so far by this process's children
// other than those excluded (the Temporal dev server, not erpbridge), or -1
// where /proc cannot tell.
func childrenCPU(exclude ...int) float64 {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return -1
	}
	me := os.Getpid()
	total := 0.0
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || slices.Contains(exclude, pid) {
			continue
		}
		if ppid, cpu, ok := procStat(pid); ok && ppid == me {
			total += cpu
		}
	}
	return total
}

// selfCPU is the CPU seconds this process has used so far.
func selfCPU() float64 { return procCPU(os.Getpid()) }

// procCPU is the CPU seconds process pid has used so far, or -1.
func procCPU(pid int) float64 {
	_, cpu, ok := procStat(pid)
	if !ok {
		return -1
	}
	return cpu
}

// procMemMiB is a memory figure of process pid from /proc/<pid>/status, in
// MiB: field "VmRSS" (resident now) or "VmHWM" (peak resident). 0 when
// /proc cannot tell.
func procMemMiB(pid int, field string) float64 {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}
