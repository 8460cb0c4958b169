package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/adshift/adshift/hub/api"
)

// Large parameter values are stored once: a wave of 1,000 devices shares
// one SID map of up to ~10 MB, which stored per job would take 10 GB. A
// job's actions column keeps the values up to inlineParam bytes and, for
// each larger one, a reference into the params table, which holds each
// value once under the SHA-256 of its bytes (content-addressed: a value
// never changes, so a value read once may be cached for good). Every
// read that returns a job resolves the references: callers of the store
// see the values as queued.

// inlineParam is the largest value kept in the actions column.
const inlineParam = 1024

// refPrefix marks, in a job read but not resolved yet, a value that is a
// reference ("\x00param:sha256:…"). Every value starting with it is stored
// by reference however short, so a marked value is always a reference.
const refPrefix = "\x00param:"

// storedAction is an action as the actions column keeps it: Refs maps a
// parameter name to the key ("sha256:" and hex) of its value in params.
// Rows written before migration 6 have no Refs.
type storedAction struct {
	Name   string            `json:"name"`
	Params map[string]string `json:"params,omitempty"`
	Refs   map[string]string `json:"refs,omitempty"`
}

// paramKey is the key a value is stored under.
func paramKey(v string) string {
	sum := sha256.Sum256([]byte(v))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// encodeActions is the actions column for actions, storing their large
// values in params through t when they are not there yet.
func (s *Store) encodeActions(ctx context.Context, t *txn, actions []api.Action, now time.Time) (string, error) {
	stored := make([]storedAction, len(actions))
	for i, a := range actions {
		sa := storedAction{Name: a.Name}
		for k, v := range a.Params {
			if len(v) <= inlineParam && !strings.HasPrefix(v, refPrefix) {
				if sa.Params == nil {
					sa.Params = map[string]string{}
				}
				sa.Params[k] = v
				continue
			}
			key := paramKey(v)
			if err := s.storeParam(ctx, t, key, v, now); err != nil {
				return "", fmt.Errorf("action %d (%s) parameter %s: %w", i, a.Name, k, err)
			}
			if sa.Refs == nil {
				sa.Refs = map[string]string{}
			}
			sa.Refs[k] = key
		}
		stored[i] = sa
	}
	b, err := json.Marshal(stored)
	return string(b), err
}

// storeParam stores v under key unless it is stored already. The look
// first spares sending a large value to the database for nothing.
func (s *Store) storeParam(ctx context.Context, t *txn, key, v string, now time.Time) error {
	var n int
	if err := t.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM params WHERE hash = ?`), key).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	// Another hub process may store the same value meanwhile.
	_, err := t.ExecContext(ctx, s.q(`INSERT INTO params (hash, value, size, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (hash) DO NOTHING`), key, []byte(v), len(v), nanos(now))
	return err
}

// decodeActions reads an actions column; referenced values come back
// marked (refPrefix and key) until resolve replaces them.
func decodeActions(col string) ([]api.Action, error) {
	var stored []storedAction
	if err := json.Unmarshal([]byte(col), &stored); err != nil {
		return nil, err
	}
	out := make([]api.Action, len(stored))
	for i, sa := range stored {
		out[i] = api.Action{Name: sa.Name, Params: sa.Params}
		for k, key := range sa.Refs {
			if out[i].Params == nil {
				out[i].Params = map[string]string{}
			}
			out[i].Params[k] = refPrefix + key
		}
	}
	return out, nil
}

// querier is a database or a txn.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// resolve replaces the references in jobs' parameters by their values,
// from the cache or else read through q.
func (s *Store) resolve(ctx context.Context, q querier, jobs []api.Job) error {
	var missing []any
	seen := map[string]bool{}
	for _, j := range jobs {
		for _, a := range j.Actions {
			for _, v := range a.Params {
				key, ok := strings.CutPrefix(v, refPrefix)
				if !ok || seen[key] {
					continue
				}
				seen[key] = true
				if _, ok := s.params.get(key); !ok {
					missing = append(missing, key)
				}
			}
		}
	}
	if len(seen) == 0 {
		return nil
	}
	// Values read now are kept here too: the cache may be too small.
	read := map[string]string{}
	for start := 0; start < len(missing); start += 100 {
		part := missing[start:min(start+100, len(missing))]
		rows, err := q.QueryContext(ctx, s.q(`SELECT hash, value FROM params WHERE hash IN (`+placeholders(len(part))+`)`), part...)
		if err != nil {
			return fmt.Errorf("read parameter values: %w", err)
		}
		for rows.Next() {
			var key string
			var b []byte
			if err := rows.Scan(&key, &b); err != nil {
				rows.Close()
				return fmt.Errorf("read parameter values: %w", err)
			}
			v := string(b)
			if paramKey(v) != key {
				rows.Close()
				return fmt.Errorf("parameter value %s is damaged: its bytes hash to %s; restore the hub database from a backup", key, paramKey(v))
			}
			read[key] = v
			s.params.put(key, v)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read parameter values: %w", err)
		}
	}
	for _, j := range jobs {
		for _, a := range j.Actions {
			for k, v := range a.Params {
				key, ok := strings.CutPrefix(v, refPrefix)
				if !ok {
					continue
				}
				val, ok := read[key]
				if !ok {
					val, ok = s.params.get(key)
				}
				if !ok {
					return fmt.Errorf("job %s action %s parameter %s: value %s is missing from the params table", j.ID, a.Name, k, key)
				}
				a.Params[k] = val
			}
		}
	}
	return nil
}

// paramCacheBytes bounds the values a store keeps in memory: a few waves'
// SID maps.
const paramCacheBytes = 64 << 20

// paramCache keeps parameter values by key. Values never change, so an
// entry is never stale. Safe for concurrent use.
type paramCache struct {
	mu   sync.Mutex
	m    map[string]string
	size int
}

func newParamCache() *paramCache { return &paramCache{m: map[string]string{}} }

func (c *paramCache) get(key string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[key]
	return v, ok
}

// put keeps v, evicting arbitrary entries to stay within paramCacheBytes;
// a value larger than a quarter of it is not kept.
func (c *paramCache) put(key, v string) {
	if len(v) > paramCacheBytes/4 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[key]; ok {
		return
	}
	for k, old := range c.m {
		if c.size+len(v) <= paramCacheBytes {
			break
		}
		delete(c.m, k)
		c.size -= len(old)
	}
	c.m[key] = v
	c.size += len(v)
}

// externalizeParams is migration 6's data step: the jobs stored before it
// get their large values moved into params.
func (s *Store) externalizeParams(ctx context.Context, t *txn) error {
	rows, err := t.QueryContext(ctx, s.q(`SELECT id FROM jobs WHERE LENGTH(actions) > ?`), inlineParam)
	if err != nil {
		return err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	now := time.Now()
	for _, id := range ids {
		var col string
		if err := t.QueryRowContext(ctx, s.q(`SELECT actions FROM jobs WHERE id = ?`), id).Scan(&col); err != nil {
			return fmt.Errorf("job %s: %w", id, err)
		}
		var actions []api.Action
		if err := json.Unmarshal([]byte(col), &actions); err != nil {
			return fmt.Errorf("job %s actions: %w", id, err)
		}
		enc, err := s.encodeActions(ctx, t, actions, now)
		if err != nil {
			return fmt.Errorf("job %s: %w", id, err)
		}
		if _, err := t.ExecContext(ctx, s.q(`UPDATE jobs SET actions = ? WHERE id = ?`), enc, id); err != nil {
			return fmt.Errorf("job %s: %w", id, err)
		}
	}
	return nil
}
