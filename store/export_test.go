package store

import "time"

// ReplaceTables lets the row tests write an event's tables the way Persist does.
var ReplaceTables = replaceTables

// SetOpenTimeout shortens how long an open waits for MySQL's first answer,
// for the duration of a test.
func SetOpenTimeout(t interface{ Cleanup(func()) }, d time.Duration) {
	was := openTimeout
	openTimeout = d
	t.Cleanup(func() { openTimeout = was })
}
