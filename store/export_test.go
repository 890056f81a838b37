package store

// ReplaceTables lets the row tests write an event's tables the way Persist does.
var ReplaceTables = replaceTables
