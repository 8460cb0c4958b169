// Package sqlstore implements store.Store over database/sql: embedded
// SQLite (modernc.org/sqlite, pure Go) by default, with one schema and
// versioned migrations written so that PostgreSQL can share them (the
// dialect differs only in placeholders and a few column types). Times are
// stored as Unix nanoseconds, JSON columns as text. On SQLite every write
// goes through one writer goroutine that group-commits concurrent calls
// (writer.go); large job parameter values are stored once, by hash
// (params.go).
package sqlstore
