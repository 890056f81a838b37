// Package devstack runs the local Temporal pieces of `erpbridge dev`: it finds
// or builds the pinned Temporal CLI (the tests use that too) and runs its
// development server in a process group of its own, waiting until the
// frontend really answers before handing it over.
package devstack

// TemporalCLIVersion is the Temporal CLI release the project is tested with.
const TemporalCLIVersion = "1.5.1"

// TemporalCLIModule is the Go package that builds the Temporal CLI.
const TemporalCLIModule = "github.com/temporalio/cli/cmd/temporal"
