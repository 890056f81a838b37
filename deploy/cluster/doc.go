// Package cluster holds the production cluster drills: cluster.sh starts a
// Temporal cluster with its four services as separate processes on
// PostgreSQL, two erpbridge API and two worker replicas on MariaDB and the
// ERP simulator; the tests (build tag "cluster", `make test-cluster`) send
// bursts of signed callbacks of both vendors across the API replicas while
// they restart workers, kill Temporal's history and matching services and an
// API replica, then check that nothing acknowledged was lost or doubled and
// that the ERP ends on every record's newest state. They also rehearse
// `erpbridge resend` after an ERP restore and the bulk retry of parked
// records with Temporal's batch signal.
package cluster
