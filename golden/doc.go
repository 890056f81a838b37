// Package golden holds the golden-file tests of what erpbridge makes of a
// vendor's callback: each fixture body goes through its vendor's decoder,
// store.Persist and the record SyncRecord sends, on SQLite and on MariaDB,
// and the ERP's request (idempotency key and body), the stored event and
// every normalised row are compared with one checked-in golden file that
// must hold on both stores.
//
// Adding a message type takes two files and no code:
//
//  1. Put the body, exactly as the vendor sends it, in
//     testdata/fixtures/<vendor>_<what>.json, where <vendor> is a vendor's
//     name ("autox3", "fenbeitong"); e.g.
//     autox3_detection_finish_maintenance_v2_full.json. The signature is not
//     checked here: the edge's tests do that.
//  2. Run go test ./golden -update (add CI=true and drop -short to check
//     MariaDB as well), read testdata/golden/<same name>.json, and commit
//     both files.
//
// Without -update a missing golden file fails the test. See golden_test.go.
package golden
