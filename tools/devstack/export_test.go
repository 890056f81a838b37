package devstack

// ReportsVersion exposes reportsVersion to the external tests.
var ReportsVersion = reportsVersion
