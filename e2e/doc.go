// Package e2e holds the end-to-end tests of erpbridge: they build the
// erpbridge binary, run `erpbridge dev` (the Temporal dev server with its Web
// UI, the codec server, the ERP simulator and the bridge) as a user would,
// send real signed callbacks over HTTP and look at the result from the
// outside: the ERP simulator, the Temporal CLI and the Web UI in a headless
// Chromium.
package e2e
