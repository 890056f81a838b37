// Package store is erpbridge's persistence: it opens and migrates MySQL or
// the embedded SQLite file, and owns every transaction, the compare-and-set
// that keeps each record's newest state, and the one way child rows of a
// record are replaced on both databases.
package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/erpbridge/erpbridge/store/sqlite"
)

// Open connects to MySQL when mysqlDSN is set (go-sql-driver format) and to
// the embedded SQLite file at sqlitePath otherwise (see package sqlite for
// how it is opened and tuned). Both keep the same values (see columns.go):
// exact decimals, dates, times to the millisecond. It fails when MySQL
// cannot be reached: what migrations need.
func Open(mysqlDSN, sqlitePath string) (*gorm.DB, error) {
	db, unreachable, err := OpenLazy(mysqlDSN, sqlitePath)
	if err == nil && unreachable != nil {
		_ = closeDB(db)
		return nil, unreachable
	}
	return db, err
}

// OpenLazy is Open for the processes that serve (api, worker, all): when
// MySQL cannot be reached at start it still returns a database, which
// connects once the server answers, and says why in unreachable; the edge
// meanwhile keeps callbacks through Temporal. Its dialect then assumes the
// oldest server erpbridge supports (no RETURNING, no renames), which only
// migrations would notice, and those run with Open.
func OpenLazy(mysqlDSN, sqlitePath string) (db *gorm.DB, unreachable error, err error) {
	cfg := gormConfig()
	if mysqlDSN == "" {
		if sqlitePath == "" {
			return nil, nil, fmt.Errorf("open database: neither MYSQL_DSN nor a SQLite path is set")
		}
		if db, err = sqlite.Open(sqlitePath, cfg); err != nil {
			return nil, nil, err
		}
		return db, nil, registerMillisecondTimes(db)
	}
	dsn, err := normaliseMySQLDSN(mysqlDSN)
	if err != nil {
		return nil, nil, err
	}
	db, err = openWithin(openTimeout, dsn, cfg)
	if err != nil {
		// The server did not answer the dialect's version query: open
		// without asking it, and connect when a statement needs to.
		unreachable = fmt.Errorf("mysql is unreachable: %w", err)
		if db, err = openUnprobed(dsn, cfg); err != nil {
			return nil, nil, err
		}
	}
	return db, unreachable, tuneMySQL(db)
}

// OpenPool opens another pool on the MySQL server of mysqlDSN without
// asking it anything: the dialect assumes the oldest server erpbridge
// supports, as OpenLazy's does when the server does not answer. For a pool
// of short writes beside the main one (the edge's), whose opening must not
// wait on a server that is down.
func OpenPool(mysqlDSN string) (*gorm.DB, error) {
	dsn, err := normaliseMySQLDSN(mysqlDSN)
	if err != nil {
		return nil, err
	}
	db, err := openUnprobed(dsn, gormConfig())
	if err != nil {
		return nil, err
	}
	return db, tuneMySQL(db)
}

// gormConfig is how every pool is opened: driver errors translated (a
// duplicate key is gorm.ErrDuplicatedKey, which Receive relies on), no
// logging of statements, and the store's own clock.
func gormConfig() *gorm.Config {
	return &gorm.Config{TranslateError: true, Logger: logger.Discard, NowFunc: now}
}

// openUnprobed opens dsn without contacting the server.
func openUnprobed(dsn string, cfg *gorm.Config) (*gorm.DB, error) {
	cfg.DisableAutomaticPing = true
	db, err := gorm.Open(mysql.New(mysql.Config{DSN: dsn, SkipInitializeWithVersion: true,
		DontSupportRenameIndex: true, DontSupportRenameColumn: true, DontSupportForShareClause: true}), cfg)
	if err != nil {
		return nil, fmt.Errorf("open mysql: %w", err)
	}
	return db, nil
}

// tuneMySQL registers erpbridge's time handling and sizes the pool.
func tuneMySQL(db *gorm.DB) error {
	if err := registerMillisecondTimes(db); err != nil {
		return err
	}
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	sqlDB.SetMaxOpenConns(32)
	sqlDB.SetMaxIdleConns(8)
	sqlDB.SetConnMaxLifetime(5 * time.Minute)
	return nil
}

// openTimeout bounds the first exchange with MySQL at open (connecting and
// asking its version), the part of opening that has no context of its own:
// a server that accepts connections and then never answers (a frozen
// server, a proxy in front of a dead one) must not hold a process at start.
var openTimeout = 10 * time.Second

// openWithin opens dsn with the dialect asking the server its version, and
// gives up after within. An open given up on finishes in the background and
// closes what it opened.
func openWithin(within time.Duration, dsn string, cfg *gorm.Config) (*gorm.DB, error) {
	type opened struct {
		db  *gorm.DB
		err error
	}
	done := make(chan opened) // unbuffered: an open finished after the give-up sees abandoned
	abandoned := make(chan struct{})
	own := *cfg // the caller may change cfg after a give-up, while this open still runs
	go func() {
		db, err := gorm.Open(mysql.Open(dsn), &own)
		select {
		case done <- opened{db, err}:
		case <-abandoned:
			if err == nil {
				_ = closeDB(db)
			}
		}
	}()
	t := time.NewTimer(within)
	defer t.Stop()
	select {
	case o := <-done:
		return o.db, o.err
	case <-t.C:
		close(abandoned)
		return nil, fmt.Errorf("no answer within %s", within)
	}
}

// closeDB closes a database's pool.
func closeDB(db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// normaliseMySQLDSN adds the options the service relies on (UTC times parsed
// into time.Time, utf8mb4) unless the DSN sets them itself.
func normaliseMySQLDSN(dsn string) (string, error) {
	if !strings.Contains(dsn, "/") {
		return "", fmt.Errorf("MYSQL_DSN %q is not in go-sql-driver form (user:pass@tcp(host:port)/db)", redactDSN(dsn))
	}
	// timeout bounds a connection attempt: a server that drops packets
	// (a failover, a partition) must not hold a caller for minutes.
	want := map[string]string{"parseTime": "true", "charset": "utf8mb4", "loc": "UTC", "collation": "utf8mb4_unicode_ci", "timeout": "5s"}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	for k, v := range want {
		if !strings.Contains(dsn, k+"=") {
			dsn += sep + k + "=" + v
			sep = "&"
		}
	}
	return dsn, nil
}

// redactDSN hides the password of a DSN for error messages.
func redactDSN(dsn string) string {
	at := strings.LastIndex(dsn, "@")
	colon := strings.Index(dsn, ":")
	if at > 0 && colon >= 0 && colon < at {
		return dsn[:colon] + ":***" + dsn[at:]
	}
	return dsn
}

// Ping checks the database answers.
func Ping(ctx context.Context, db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}
