package models

// fenbeitongModels lists the Fenbeitong tables for migration.
var fenbeitongModels = []any{}
