package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/erpbridge/erpbridge/models"
)

// ResendFilter chooses the records `erpbridge resend` resends. Empty fields
// match every record.
type ResendFilter struct {
	Vendor      string
	Kind        string
	ExternalIDs []string
	// ChangedSince and ChangedBefore bound the record's last change
	// (record_states.updated_at, which a send to the ERP also moves): a
	// record the ERP accepted after a backup changed after it too.
	ChangedSince  time.Time
	ChangedBefore time.Time
}

// ResendRecord is a record as resend sees it.
type ResendRecord struct {
	ID             uint64
	Vendor         string
	Kind           string
	ExternalID     string
	Version        int64
	Revision       int64
	SyncedRevision int64
	SyncStatus     models.RecordStatus
}

// Label names the record for people: vendor/kind/external id.
func (r ResendRecord) Label() string { return r.Vendor + "/" + r.Kind + "/" + r.ExternalID }

func (s *Store) resendQuery(ctx context.Context, f ResendFilter) *gorm.DB {
	// A version below zero is a record whose row exists but whose first state
	// was never applied: there is nothing to send.
	q := s.db.WithContext(ctx).Model(&models.RecordState{}).Where("version >= 0")
	if f.Vendor != "" {
		q = q.Where("vendor = ?", f.Vendor)
	}
	if f.Kind != "" {
		q = q.Where("kind = ?", f.Kind)
	}
	if len(f.ExternalIDs) > 0 {
		q = q.Where("external_id IN ?", f.ExternalIDs)
	}
	if !f.ChangedSince.IsZero() {
		q = q.Where("updated_at >= ?", f.ChangedSince.UTC())
	}
	if !f.ChangedBefore.IsZero() {
		q = q.Where("updated_at < ?", f.ChangedBefore.UTC())
	}
	return q
}

// CountResend counts the records f chooses.
func (s *Store) CountResend(ctx context.Context, f ResendFilter) (int64, error) {
	var n int64
	if err := s.resendQuery(ctx, f).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count records to resend: %w", err)
	}
	return n, nil
}

// ResendPage returns up to limit records f chooses whose id is above after,
// in id order, so a long resend pages through them without holding a cursor.
func (s *Store) ResendPage(ctx context.Context, f ResendFilter, after uint64, limit int) ([]ResendRecord, error) {
	var out []ResendRecord
	err := s.resendQuery(ctx, f).Where("id > ?", after).Order("id").Limit(limit).
		Select("id", "vendor", "kind", "external_id", "version", "revision", "synced_revision", "sync_status").
		Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list records to resend: %w", err)
	}
	return out, nil
}

// MarkForResend makes the record workflow send a synced record's state
// again: it raises the revision without changing the state (same version,
// data and so the same Idempotency-Key), which a record workflow treats as
// news. It returns the record's revision afterwards and whether it was
// raised. Only a record the ERP is up to date with is raised: a pending one
// is on its way already, a rejected or skipped one waits for an operator.
// A newer state persisted meanwhile raises the revision again and wins, as
// always.
func (s *Store) MarkForResend(ctx context.Context, id uint64) (revision int64, raised bool, err error) {
	db := s.db.WithContext(ctx)
	up := db.Model(&models.RecordState{}).
		Where("id = ? AND version >= 0 AND synced_revision = revision AND sync_status = ?", id, models.RecordSynced).
		Updates(map[string]any{"revision": gorm.Expr("revision + 1"), "sync_status": models.RecordPending})
	if up.Error != nil {
		return 0, false, fmt.Errorf("mark record %d for resend: %w", id, up.Error)
	}
	var st models.RecordState
	if err := db.Select("revision").Where("id = ?", id).Take(&st).Error; err != nil {
		return 0, false, fmt.Errorf("reload record %d: %w", id, err)
	}
	return st.Revision, up.RowsAffected == 1, nil
}
