// Package sqlite opens erpbridge's embedded SQLite file and holds what
// SQLite needs to serve the service well. Package store opens it through
// Open and keeps everything that is not SQLite's own.
//
// The file is opened with WAL (reads run beside a writer), foreign keys,
// synchronous=NORMAL, a 10 s busy timeout and BEGIN IMMEDIATE: a
// transaction takes the write lock when it starts, so one that reads before
// it writes never fails to upgrade its lock when another process (a
// migration, say) wrote meanwhile; it waits instead.
//
// Column types. SQLite would give a DECIMAL column NUMERIC affinity and turn
// "98765432101234.5678" into the REAL 98765432101234.58, so the dialector
// Open uses declares decimal columns (models.DecimalType) TEXT, keeping the
// decimal text as written; date columns are "YYYY-MM-DD" TEXT as well. Its
// migrator declares the same types.
//
// The write gate. SQLite lets one connection write at a time. Left to
// itself, a writer that finds the database locked sleeps in SQLite's busy
// handler (1 to 100 ms a try) and a deferred transaction that reads before
// it writes can fail outright; funnelling everything through one
// connection instead queues reads behind writes and hands the connection to
// a random waiter. The write gate serialises this process's writers in Go:
// a transaction (every GORM write runs in one) or a write outside one waits
// for the gate before it takes a connection and holds it until it commits
// or rolls back, so no writer meets another's lock and plain reads, which
// WAL lets run beside a writer, never wait. (A query outside a transaction
// is taken for a read: GORM runs every write in a transaction, INSERT ...
// RETURNING included.) Writes marked Urgent (the edge's intake, which a
// caller is waiting on) pass before the others, in arrival order. Another
// process writing the same file still meets SQLite's lock and its busy
// timeout. The pool has a few connections: one writer at a time and
// readers beside it.
//
// Group commit. With one writer, a burst of small transactions queues for
// one commit each. GroupCommit puts the items stored at once into one
// write (one transaction), each caller learning whether its own item was a
// duplicate, so the burst waits for one commit instead.
//
// The C heap. Open keeps one small allocation of every size class of the
// pure-Go SQLite's C heap (modernc.org/memory, which libc's malloc uses)
// for the life of the process. That allocator maps a fresh 1 MiB region
// for a size class whose regions are all in use and unmaps a region as
// soon as its last allocation is freed; SQLite allocates and frees per
// statement, so without this most statements mapped, zero-filled and
// unmapped memory again (a fifth of the process's CPU under a burst of
// callbacks). With one allocation kept, a class's first region stays
// mapped and is reused. It costs a little address space and, for the
// memory SQLite really uses, the resident pages it would touch anyway.
package sqlite
