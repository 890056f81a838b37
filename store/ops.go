package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/erpbridge/erpbridge/models"
)

// The reads of `erpbridge ops`: an operator names events and records by the
// vendor's ids, and these find them without SQL by hand. None of them
// reads a callback's body or a record's data: what ops shows is the state
// of the path, not the vendor's content.

// likeEscape escapes s for a LIKE pattern whose escape character is '!'.
func likeEscape(s string) string {
	return strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(s)
}

// Event loads one stored event by its vendor and event key, without its
// body; found is false when there is none.
func (s *Store) Event(ctx context.Context, vendor, eventKey string) (ev models.InboundEvent, found bool, err error) {
	err = s.db.WithContext(ctx).Omit("body").Where("vendor = ? AND event_key = ?", vendor, eventKey).Limit(1).Find(&ev).Error
	if err != nil {
		return ev, false, fmt.Errorf("look up event %s:%s: %w", vendor, eventKey, err)
	}
	return ev, ev.ID != 0, nil
}

// Parts summarises the parts of a split message.
type Parts struct {
	// Total is how many parts the message was split into so far.
	Total int64
	// ByStatus counts them by their row status.
	ByStatus map[models.EventStatus]int64
	// Shown are up to the limit asked for, those still waiting for an
	// outcome or an operator (neither synced nor superseded) first, each
	// group in the order they were stored.
	Shown []models.InboundEvent
}

// EventParts summarises the parts of the split message (vendor, eventKey):
// their count by status and up to limit of them (see Parts.Shown).
func (s *Store) EventParts(ctx context.Context, vendor, eventKey string, limit int) (Parts, error) {
	out := Parts{ByStatus: map[models.EventStatus]int64{}}
	// A part's event key starts with the message's and '#' (vendors.PartKey),
	// so the unique index on (vendor, event_key) finds them; parent_key
	// makes sure of each.
	parts := func() *gorm.DB {
		return s.db.WithContext(ctx).Model(&models.InboundEvent{}).
			Where("vendor = ? AND event_key LIKE ? ESCAPE '!' AND parent_key = ?", vendor, likeEscape(eventKey)+"#%", eventKey)
	}
	var counts []struct {
		SyncStatus models.EventStatus
		N          int64
	}
	if err := parts().Select("sync_status, COUNT(*) AS n").Group("sync_status").Scan(&counts).Error; err != nil {
		return out, fmt.Errorf("count the parts of %s:%s: %w", vendor, eventKey, err)
	}
	for _, c := range counts {
		out.ByStatus[c.SyncStatus] = c.N
		out.Total += c.N
	}
	if limit <= 0 {
		return out, nil
	}
	settled := []models.EventStatus{models.EventSynced, models.EventSuperseded}
	if err := parts().Omit("body").Where("sync_status NOT IN ?", settled).Order("id").Limit(limit).Find(&out.Shown).Error; err != nil {
		return out, fmt.Errorf("list the parts of %s:%s: %w", vendor, eventKey, err)
	}
	if rest := limit - len(out.Shown); rest > 0 {
		var more []models.InboundEvent
		if err := parts().Omit("body").Where("sync_status IN ?", settled).Order("id").Limit(rest).Find(&more).Error; err != nil {
			return out, fmt.Errorf("list the parts of %s:%s: %w", vendor, eventKey, err)
		}
		out.Shown = append(out.Shown, more...)
	}
	return out, nil
}

// EventsOfRecord lists the events persisted for the records (vendor, kind,
// externalID) of the given kinds, oldest first, at most limit of them (the
// newest when there are more), and how many there are in all.
func (s *Store) EventsOfRecord(ctx context.Context, vendor string, kinds []string, externalID string, limit int) ([]models.InboundEvent, int64, error) {
	if len(kinds) == 0 {
		return nil, 0, nil
	}
	out, total, err := newest[models.InboundEvent](func() *gorm.DB {
		return s.db.WithContext(ctx).Model(&models.InboundEvent{}).
			Where("kind IN ? AND external_id = ? AND vendor = ?", kinds, externalID, vendor).Omit("body")
	}, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("the events of %s record %s: %w", vendor, externalID, err)
	}
	return out, total, nil
}

// newest counts the rows q selects and reads the newest limit of them (by
// id), oldest first.
func newest[T any](q func() *gorm.DB, limit int) ([]T, int64, error) {
	var total int64
	if err := q().Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("count: %w", err)
	}
	var out []T
	if err := q().Order("id DESC").Limit(limit).Find(&out).Error; err != nil {
		return nil, 0, fmt.Errorf("list: %w", err)
	}
	slices.Reverse(out)
	return out, total, nil
}

// UnpersistedEvents lists a vendor's events that name no record yet (still
// received, waiting for their workflow) or never will (invalid), whose
// event key contains keyPart, oldest first, at most limit.
func (s *Store) UnpersistedEvents(ctx context.Context, vendor, keyPart string, limit int) ([]models.InboundEvent, error) {
	var out []models.InboundEvent
	err := s.db.WithContext(ctx).Omit("body").
		Where("sync_status IN ? AND vendor = ? AND event_key LIKE ? ESCAPE '!'",
			[]models.EventStatus{models.EventReceived, models.EventInvalid}, vendor, "%"+likeEscape(keyPart)+"%").
		Order("id").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list %s events not persisted: %w", vendor, err)
	}
	return out, nil
}

// VendorKinds lists the record kinds a vendor has records of.
func (s *Store) VendorKinds(ctx context.Context, vendor string) ([]string, error) {
	var kinds []string
	err := s.db.WithContext(ctx).Model(&models.RecordState{}).Where("vendor = ?", vendor).Distinct().Order("kind").Pluck("kind", &kinds).Error
	if err != nil {
		return nil, fmt.Errorf("list the record kinds of %s: %w", vendor, err)
	}
	return kinds, nil
}

// FindRecord loads one record's state without its data; found is false
// when there is no such record.
func (s *Store) FindRecord(ctx context.Context, vendor, kind, externalID string) (st models.RecordState, found bool, err error) {
	err = s.db.WithContext(ctx).Omit("data").
		Where("vendor = ? AND kind = ? AND external_id = ?", vendor, kind, externalID).Limit(1).Find(&st).Error
	if err != nil {
		return st, false, fmt.Errorf("look up record %s/%s/%s: %w", vendor, kind, externalID, err)
	}
	return st, st.ID != 0, nil
}

// RecordsByExternalID loads, without their data, a vendor's records of the
// given kinds whose external id is externalID, in kind order.
func (s *Store) RecordsByExternalID(ctx context.Context, vendor string, kinds []string, externalID string) ([]models.RecordState, error) {
	if len(kinds) == 0 {
		return nil, nil
	}
	var out []models.RecordState
	err := s.db.WithContext(ctx).Omit("data").
		Where("vendor = ? AND kind IN ? AND external_id = ?", vendor, kinds, externalID).Order("kind").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("look up %s records %s: %w", vendor, externalID, err)
	}
	return out, nil
}

// RecordsByID loads records, without their data, by their row ids.
func (s *Store) RecordsByID(ctx context.Context, ids []uint64) ([]models.RecordState, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var out []models.RecordState
	if err := s.db.WithContext(ctx).Omit("data").Where("id IN ?", ids).Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("load %d records: %w", len(ids), err)
	}
	return out, nil
}

// RecordAttempts lists the ERP's answers to one record's sends (and its
// operators' skips), oldest first: at most limit, the newest when there
// are more, and how many there are in all.
func (s *Store) RecordAttempts(ctx context.Context, vendor, kind, externalID string, limit int) ([]models.SyncAttempt, int64, error) {
	out, total, err := newest[models.SyncAttempt](func() *gorm.DB {
		return s.db.WithContext(ctx).Model(&models.SyncAttempt{}).Where("vendor = ? AND kind = ? AND external_id = ?", vendor, kind, externalID)
	}, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("the attempts of %s/%s/%s: %w", vendor, kind, externalID, err)
	}
	return out, total, nil
}

// RecordAttemptsAfter lists the attempts of one record whose id is above
// after, oldest first: what happened to it since an earlier look.
func (s *Store) RecordAttemptsAfter(ctx context.Context, vendor, kind, externalID string, after uint64) ([]models.SyncAttempt, error) {
	var out []models.SyncAttempt
	err := s.db.WithContext(ctx).Where("vendor = ? AND kind = ? AND external_id = ? AND id > ?", vendor, kind, externalID, after).
		Order("id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list the new attempts of %s/%s/%s: %w", vendor, kind, externalID, err)
	}
	return out, nil
}

// AttemptsSince lists the attempts of every record whose id is above
// after, oldest first, at most limit: what happened at the ERP since an
// earlier look (see LastAttemptID).
func (s *Store) AttemptsSince(ctx context.Context, after uint64, limit int) ([]models.SyncAttempt, error) {
	var out []models.SyncAttempt
	if err := s.db.WithContext(ctx).Where("id > ?", after).Order("id").Limit(limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list the attempts since %d: %w", after, err)
	}
	return out, nil
}

// LastAttemptID is the id of the newest attempt of any record (0 when
// there is none): attempts after it are newer than this call.
func (s *Store) LastAttemptID(ctx context.Context) (uint64, error) {
	var id sql.NullInt64
	if err := s.db.WithContext(ctx).Model(&models.SyncAttempt{}).Select("MAX(id)").Row().Scan(&id); err != nil {
		return 0, fmt.Errorf("read the newest attempt: %w", err)
	}
	return uint64(id.Int64), nil
}

// ParkedFilter chooses parked records. Empty fields match every record.
type ParkedFilter struct {
	Vendor string
	Kind   string
	// Since keeps the records last written at or after it (a record's row
	// is written at every send, so a parked one was parked then).
	Since time.Time
}

// parkedRows narrows a query of record_states to the parked records: their
// row says rejected, after an ERP refusal or a retry budget run out (its
// workflow records that with MarkParked). In the rare case where
// MarkParked itself failed, a parked record's row still says pending and
// only the workflow's SyncStatus shows it.
func parkedRows(db *gorm.DB) *gorm.DB { return db.Where("sync_status = ?", models.RecordRejected) }

// parkedQuery selects the parked records f chooses.
func (s *Store) parkedQuery(ctx context.Context, f ParkedFilter) *gorm.DB {
	return s.resendQuery(ctx, ResendFilter{Vendor: f.Vendor, Kind: f.Kind, ChangedSince: f.Since}).Scopes(parkedRows)
}

// CountParked counts the parked records f chooses.
func (s *Store) CountParked(ctx context.Context, f ParkedFilter) (int64, error) {
	var n int64
	if err := s.parkedQuery(ctx, f).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count parked records: %w", err)
	}
	return n, nil
}

// ParkedPage returns, without their data, up to limit parked records f
// chooses whose row id is above after, in id order, so a long list is read
// page by page without holding a cursor.
func (s *Store) ParkedPage(ctx context.Context, f ParkedFilter, after uint64, limit int) ([]models.RecordState, error) {
	var out []models.RecordState
	if err := s.parkedQuery(ctx, f).Omit("data").Where("id > ?", after).Order("id").Limit(limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list parked records: %w", err)
	}
	return out, nil
}
