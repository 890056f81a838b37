package models

// autox3Models lists the AutoX3 tables for migration.
var autox3Models = []any{}
