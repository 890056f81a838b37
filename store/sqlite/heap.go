package sqlite

import (
	"sync"

	"modernc.org/libc"
	"modernc.org/libc/sys/types"
)

// pinHeap keeps one small allocation of every size class of the pure-Go
// SQLite's C heap for the life of the process (see the package doc). The C
// heap is the process's, so this runs once per process.
var pinHeap = sync.OnceFunc(func() {
	tls := libc.NewTLS()
	defer tls.Close()
	// Size classes are powers of two from 16 bytes to a quarter of a region
	// (256 KiB); larger allocations get regions of their own.
	for log := 4; log <= 18; log++ {
		libc.Xmalloc(tls, types.Size_t(1)<<log)
	}
})
