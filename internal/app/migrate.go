package app

import (
	"context"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"github.com/erpbridge/erpbridge/config"
	"github.com/erpbridge/erpbridge/store"
)

// runMigrate creates or updates the schema, then exits. Concurrent runs wait
// for each other on the database's migration lock.
func runMigrate(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	db, err := openStore(cfg)
	if err != nil {
		return err
	}
	defer closeDB(db)
	start := time.Now()
	if err := store.Migrate(ctx, db); err != nil {
		return err
	}
	log.Info("schema migrated", "store", cfg.StoreName(), "duration_ms", time.Since(start).Milliseconds())
	return nil
}

// openStore opens the configured database with the configured pool size.
func openStore(cfg config.Config) (*gorm.DB, error) {
	db, err := store.Open(cfg.Store.MySQLDSN, cfg.Store.SQLitePath)
	if err != nil {
		return nil, err
	}
	sizePool(cfg, db)
	return db, nil
}

// sizePool sizes a MySQL database's pool from the configuration.
func sizePool(cfg config.Config, db *gorm.DB) {
	if cfg.Store.MySQLDSN == "" {
		return
	}
	if sqlDB, err := db.DB(); err == nil {
		sqlDB.SetMaxOpenConns(cfg.Store.MaxOpenConns)
		sqlDB.SetMaxIdleConns(cfg.Store.MaxIdleConns)
	}
}

// needs says what each command uses, for config.Require.
func needs(command string) config.Needs {
	switch command {
	case "migrate", "api", "resend", "ops":
		return config.Needs{Store: true}
	case "worker", "all":
		return config.Needs{Store: true, ERP: true}
	}
	return config.Needs{}
}
