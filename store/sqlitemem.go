package store

import (
	"sync"

	"modernc.org/libc"
	"modernc.org/libc/sys/types"
)

// pinSQLiteHeap keeps one small allocation of every size class of the
// pure-Go SQLite's C heap (modernc.org/memory, which libc's malloc uses)
// for the life of the process. That allocator maps a fresh 1 MiB region
// for a size class whose regions are all in use and unmaps a region as soon
// as its last allocation is freed; SQLite allocates and frees per
// statement, so without this most statements mapped, zero-filled and
// unmapped memory again (a fifth of the process's CPU under a burst of
// callbacks). With one allocation kept, a class's first region stays mapped
// and is reused. It costs a little address space and, for the memory
// SQLite really uses, the resident pages it would touch anyway.
var pinSQLiteHeap = sync.OnceFunc(func() {
	tls := libc.NewTLS()
	defer tls.Close()
	// Size classes are powers of two from 16 bytes to a quarter of a region
	// (256 KiB); larger allocations get regions of their own.
	for log := 4; log <= 18; log++ {
		libc.Xmalloc(tls, types.Size_t(1)<<log)
	}
})
