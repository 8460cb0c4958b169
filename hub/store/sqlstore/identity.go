package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/adshift/adshift/hub/api"
	"github.com/adshift/adshift/hub/store"
)

// CreateToken implements store.Store.
func (s *Store) CreateToken(ctx context.Context, t api.Token, hash []byte) error {
	_, err := s.exec(ctx, s.q(`INSERT INTO tokens (id, hash, scope, expires_at, uses, used, revoked, created_at) VALUES (?, ?, ?, ?, ?, 0, 0, ?)`),
		t.ID, hash, t.Scope, nanos(t.ExpiresAt), t.Uses, nanos(t.CreatedAt))
	if err != nil {
		return fmt.Errorf("create token %s: %w", t.ID, err)
	}
	return nil
}

// Tokens implements store.Store.
func (s *Store) Tokens(ctx context.Context) ([]api.Token, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, scope, expires_at, uses, used, revoked, created_at FROM tokens ORDER BY created_at DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []api.Token
	for rows.Next() {
		var t api.Token
		var exp, created int64
		var revoked int
		if err := rows.Scan(&t.ID, &t.Scope, &exp, &t.Uses, &t.Used, &revoked, &created); err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		t.ExpiresAt, t.CreatedAt, t.Revoked = fromNanos(exp), fromNanos(created), revoked != 0
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken implements store.Store.
func (s *Store) RevokeToken(ctx context.Context, id string) error {
	res, err := s.exec(ctx, s.q(`UPDATE tokens SET revoked = 1 WHERE id = ?`), id)
	if err != nil {
		return fmt.Errorf("revoke token %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("revoke token %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// CheckToken implements store.Store.
func (s *Store) CheckToken(ctx context.Context, hash []byte, now time.Time) error {
	var n int
	err := s.r.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM tokens WHERE hash = ? AND revoked = 0 AND used < uses AND expires_at > ?`), hash, nanos(now)).Scan(&n)
	if err != nil {
		return fmt.Errorf("check token: %w", err)
	}
	if n == 0 {
		return store.ErrTokenInvalid
	}
	return nil
}

// Enroll implements store.Store.
func (s *Store) Enroll(ctx context.Context, hash []byte, d api.Device, now time.Time) (api.Device, error) {
	err := s.tx(ctx, func(tx *txn) error {
		var id, scope string
		var exp int64
		var uses, used, revoked int
		err := tx.QueryRowContext(ctx, s.q(`SELECT id, scope, expires_at, uses, used, revoked FROM tokens WHERE hash = ?`+s.d.forUpdate), hash).
			Scan(&id, &scope, &exp, &uses, &used, &revoked)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrTokenInvalid
		}
		if err != nil {
			return err
		}
		if revoked != 0 || used >= uses || !now.Before(fromNanos(exp)) {
			return fmt.Errorf("token %s: %w", id, store.ErrTokenInvalid)
		}
		var n int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM devices WHERE hostname = ? AND state = 'active'`), d.Hostname).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return store.ErrHostnameTaken
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE tokens SET used = used + 1 WHERE id = ?`), id); err != nil {
			return err
		}
		d.Scope, d.State, d.EnrolledAt = scope, api.DeviceActive, now.UTC()
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO devices (id, hostname, scope, state, cert_serial, cert_expires, enrolled_at, ping_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
			d.ID, d.Hostname, d.Scope, d.State, d.CertSerial, nanos(d.CertExpires), nanos(now), base64.StdEncoding.EncodeToString(d.PingKey))
		return err
	})
	if err != nil {
		return api.Device{}, fmt.Errorf("enroll %s: %w", d.Hostname, err)
	}
	return d, nil
}

const deviceCols = `id, hostname, scope, state, cert_serial, cert_expires, enrolled_at, last_seen, inventory, ping_key, next_serial`

func scanDevice(row interface{ Scan(...any) error }) (api.Device, error) {
	var d api.Device
	var exp, enrolled, seen int64
	var inv, key string
	if err := row.Scan(&d.ID, &d.Hostname, &d.Scope, &d.State, &d.CertSerial, &exp, &enrolled, &seen, &inv, &key, &d.NextSerial); err != nil {
		return d, err
	}
	if key != "" {
		var err error
		if d.PingKey, err = base64.StdEncoding.DecodeString(key); err != nil {
			return d, fmt.Errorf("device %s ping key: %w", d.ID, err)
		}
	}
	d.CertExpires, d.EnrolledAt, d.LastSeen = fromNanos(exp), fromNanos(enrolled), fromNanos(seen)
	if inv != "" {
		d.Inventory = new(api.Inventory)
		if err := json.Unmarshal([]byte(inv), d.Inventory); err != nil {
			return d, fmt.Errorf("device %s inventory: %w", d.ID, err)
		}
	}
	return d, nil
}

// Device implements store.Store.
func (s *Store) Device(ctx context.Context, key string) (api.Device, error) {
	// By ID first (every agent request), then by host name: two indexed
	// lookups, where one query with OR would scan the table.
	d, err := scanDevice(s.queryRow(ctx, `SELECT `+deviceCols+` FROM devices WHERE id = ?`, key))
	if errors.Is(err, sql.ErrNoRows) {
		d, err = scanDevice(s.queryRow(ctx, `SELECT `+deviceCols+` FROM devices WHERE hostname = ? ORDER BY state = 'active' DESC, enrolled_at DESC LIMIT 1`, key))
	}
	if err != nil {
		return d, notFound(err, "device "+key)
	}
	return d, nil
}

// Identity implements store.Store.
func (s *Store) Identity(ctx context.Context, id string) (api.Device, error) {
	// The inventory column is left out: '' reads as no inventory.
	d, err := scanDevice(s.queryRow(ctx, `SELECT `+strings.Replace(deviceCols, "inventory", "''", 1)+` FROM devices WHERE id = ?`, id))
	if err != nil {
		return d, notFound(err, "device "+id)
	}
	return d, nil
}

// Devices implements store.Store.
func (s *Store) Devices(ctx context.Context) ([]api.Device, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+deviceCols+` FROM devices ORDER BY hostname, enrolled_at`)
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	defer rows.Close()
	var out []api.Device
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, fmt.Errorf("list devices: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// RevokeDevice implements store.Store.
func (s *Store) RevokeDevice(ctx context.Context, id string) error {
	res, err := s.exec(ctx, s.q(`UPDATE devices SET state = 'revoked' WHERE id = ?`), id)
	if err != nil {
		return fmt.Errorf("revoke device %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("revoke device %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// RenewCert implements store.Store.
func (s *Store) RenewCert(ctx context.Context, id, current, next string, expires time.Time) error {
	res, err := s.exec(ctx, s.q(`UPDATE devices SET next_serial = ?, next_expires = ? WHERE id = ? AND cert_serial = ? AND state = 'active'`),
		next, nanos(expires), id, current)
	if err != nil {
		return fmt.Errorf("renew device %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("renew device %s: %w", id, store.ErrConflict)
	}
	return nil
}

// UseNextCert implements store.Store.
func (s *Store) UseNextCert(ctx context.Context, id, next string) error {
	res, err := s.exec(ctx, s.q(`UPDATE devices SET cert_serial = next_serial, cert_expires = next_expires, next_serial = '', next_expires = 0
		WHERE id = ? AND next_serial = ? AND next_serial <> '' AND state = 'active'`), id, next)
	if err != nil {
		return fmt.Errorf("device %s: use the renewed certificate: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("device %s: use the renewed certificate: %w", id, store.ErrConflict)
	}
	return nil
}

// Seen implements store.Store.
func (s *Store) Seen(ctx context.Context, id string, now time.Time, inv *api.Inventory) error {
	var res sql.Result
	var err error
	if inv != nil {
		b, merr := json.Marshal(inv)
		if merr != nil {
			return fmt.Errorf("device %s inventory: %w", id, merr)
		}
		res, err = s.exec(ctx, s.q(`UPDATE devices SET last_seen = ?, inventory = ? WHERE id = ? AND state = 'active'`), nanos(now), string(b), id)
	} else {
		res, err = s.exec(ctx, s.q(`UPDATE devices SET last_seen = ? WHERE id = ? AND state = 'active'`), nanos(now), id)
	}
	if err != nil {
		return fmt.Errorf("device %s seen: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("device %s: %w", id, store.ErrDeviceRevoked)
	}
	return nil
}
