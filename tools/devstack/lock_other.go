//go:build !unix

package devstack

import "context"

// lockFile is a no-op where advisory file locks are not available; concurrent
// installs there are serialised only by go install itself.
func lockFile(context.Context, string) (func(), error) { return func() {}, nil }
