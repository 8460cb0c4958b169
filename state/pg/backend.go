package pg

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/adshift/adshift/state"
)

// Backend is one workspace's state in a Store. It is safe for concurrent
// use. While this Backend holds the workspace's lock, every read and write
// goes through the lock's connection.
type Backend struct {
	store     *Store
	workspace string

	mu   sync.Mutex
	held *lock // the lock this Backend holds, or nil
}

var _ state.Backend = (*Backend)(nil)

// Workspace returns the workspace's name.
func (b *Backend) Workspace() string { return b.workspace }

func (b *Backend) name() string {
	return fmt.Sprintf("workspace %s in %s", b.workspace, b.store.Describe())
}

// conn returns the connection to use and its release: the held lock's
// connection (serialised with its mutex), or a new one closed on release.
func (b *Backend) conn(ctx context.Context) (*pgx.Conn, func(), error) {
	b.mu.Lock()
	k := b.held
	b.mu.Unlock()
	if k != nil {
		k.mu.Lock()
		if k.conn != nil {
			return k.conn, k.mu.Unlock, nil
		}
		k.mu.Unlock()
	}
	c, err := b.store.connect(ctx)
	if err != nil {
		return nil, nil, err
	}
	return c, func() { c.Close(context.WithoutCancel(ctx)) }, nil
}

// stored is what Begin needs to know about the stored state.
type stored struct {
	version, journal bool
	lineage          string
	serial           uint64
}

// Load implements state.Backend: the newest version with the journal
// replayed onto it, or state.New() for a workspace never written.
func (b *Backend) Load(ctx context.Context) (*state.State, error) {
	conn, release, err := b.conn(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	// One read-only snapshot for the version and the journal, so a fold
	// committed in between cannot be seen half.
	var s *state.State
	var journal bytes.Buffer
	err = pgx.BeginTxFunc(ctx, conn, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var doc []byte
		var id int64
		err := tx.QueryRow(ctx, `SELECT id, state::text FROM `+b.store.q+`.versions WHERE workspace = $1 ORDER BY id DESC LIMIT 1`, b.workspace).Scan(&id, &doc)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return fmt.Errorf("read the state of %s: %w", b.name(), err)
		default:
			if s, err = state.Decode(fmt.Sprintf("state version %d of %s", id, b.name()), doc); err != nil {
				return err
			}
		}
		rows, err := tx.Query(ctx, `SELECT record FROM `+b.store.q+`.journal WHERE workspace = $1 ORDER BY serial`, b.workspace)
		if err != nil {
			return fmt.Errorf("read the journal of %s: %w", b.name(), err)
		}
		var rec string
		_, err = pgx.ForEachRow(rows, []any{&rec}, func() error {
			journal.WriteString(rec)
			if len(rec) == 0 || rec[len(rec)-1] != '\n' {
				journal.WriteByte('\n')
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("read the journal of %s: %w", b.name(), err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if journal.Len() > 0 {
		if s, err = state.Replay(s, journal.Bytes(), "journal of "+b.name(), "state of "+b.name()); err != nil {
			return nil, err
		}
	}
	if s == nil {
		s = state.New()
	}
	return s, nil
}

// inspect reads the newest version's lineage and serial and the journal's,
// without reading any state document.
func (b *Backend) inspect(ctx context.Context, conn *pgx.Conn) (stored, error) {
	var st stored
	var serial int64
	err := conn.QueryRow(ctx, `SELECT lineage, serial FROM `+b.store.q+`.versions WHERE workspace = $1 ORDER BY id DESC LIMIT 1`, b.workspace).Scan(&st.lineage, &serial)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return st, fmt.Errorf("read the state of %s: %w", b.name(), err)
	default:
		st.version, st.serial = true, uint64(serial)
	}
	var n int64
	var jmin, jmax *string
	var jserial *int64
	err = conn.QueryRow(ctx, `SELECT count(*), min(lineage), max(lineage), max(serial) FROM `+b.store.q+`.journal WHERE workspace = $1`, b.workspace).Scan(&n, &jmin, &jmax, &jserial)
	if err != nil {
		return st, fmt.Errorf("read the journal of %s: %w", b.name(), err)
	}
	if n == 0 {
		return st, nil
	}
	st.journal = true
	if *jmin != *jmax || (st.version && *jmin != st.lineage) {
		return st, fmt.Errorf("the journal of %s holds records of lineage %s, but its state is lineage %s: %w", b.name(), *jmin, st.lineage, state.ErrLineageMismatch)
	}
	st.lineage = *jmin
	st.serial = max(st.serial, uint64(*jserial))
	return st, nil
}

// Begin implements state.Backend, as Local's Begin: a journal left from an
// earlier run is folded into a new version first; a State for an empty
// workspace that already holds something is written as the first version.
func (b *Backend) Begin(ctx context.Context, s *state.State) (*state.Txn, error) {
	if s.Lineage == "" {
		return nil, fmt.Errorf("begin recording into %s: the state has no lineage", b.name())
	}
	if s.Objects == nil {
		s.Objects = map[string]*state.Object{}
	}
	if s.Devices == nil {
		s.Devices = map[string]*state.Device{}
	}
	conn, release, err := b.conn(ctx)
	if err != nil {
		return nil, err
	}
	st, err := b.inspect(ctx, conn)
	release()
	if err != nil {
		return nil, err
	}
	fold := st.journal
	if st.lineage == "" {
		fold = fold || !s.Empty()
	} else {
		if st.lineage != s.Lineage {
			return nil, fmt.Errorf("the state to record into is lineage %s, but %s is lineage %s (it was not loaded from this backend): %w", s.Lineage, b.name(), st.lineage, state.ErrLineageMismatch)
		}
		if st.serial != s.Serial {
			return nil, fmt.Errorf("%s is at serial %d but the state to record into was loaded at serial %d: it changed since; load it again: %w",
				b.name(), st.serial, s.Serial, state.ErrSerialMismatch)
		}
	}
	if fold {
		if err := b.fold(ctx, s); err != nil {
			return nil, err
		}
	}
	// Records describe changes already made in a directory: they are
	// written even after the run's context is cancelled (a second Ctrl-C).
	return state.NewTxn(s, &journal{b: b, ctx: context.WithoutCancel(ctx)}), nil
}

// Write implements state.Backend: s becomes a new version and the journal
// is emptied, in one transaction.
func (b *Backend) Write(ctx context.Context, s *state.State) error {
	if s.Lineage == "" {
		return fmt.Errorf("write %s: the state has no lineage", b.name())
	}
	return b.fold(ctx, s)
}

// fold stores s as a new version and deletes the journal, atomically.
func (b *Backend) fold(ctx context.Context, s *state.State) error {
	var doc bytes.Buffer
	if err := state.Encode(&doc, s); err != nil {
		return fmt.Errorf("encode the state of %s: %w", b.name(), err)
	}
	conn, release, err := b.conn(ctx)
	if err != nil {
		return err
	}
	defer release()
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO `+b.store.q+`.versions (workspace, lineage, serial, state) VALUES ($1, $2, $3, $4::jsonb)`,
			b.workspace, s.Lineage, int64(s.Serial), doc.String()); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM `+b.store.q+`.journal WHERE workspace = $1`, b.workspace)
		return err
	})
	if err != nil {
		return fmt.Errorf("write the state of %s: %w", b.name(), err)
	}
	return nil
}

// journal is a Backend's state.Journal: one row per record. Append only
// queues a record; Sync inserts every queued record in one statement, so
// records that finish together share one round trip and one commit (group
// commit, as the local journal shares fsyncs).
type journal struct {
	b   *Backend
	ctx context.Context // Begin's, without its cancellation

	mu      sync.Mutex // guards pending
	pending [][]byte
}

// Append queues the record (a copy of it): the Txn reuses its buffer.
func (j *journal) Append(rec []byte) error {
	j.mu.Lock()
	j.pending = append(j.pending, bytes.Clone(rec))
	j.mu.Unlock()
	return nil
}

// Sync inserts the queued records in one statement; when it returns they
// are committed. The Txn serialises Syncs, so records go in in order.
func (j *journal) Sync() error {
	j.mu.Lock()
	recs := j.pending
	j.pending = nil
	j.mu.Unlock()
	if len(recs) == 0 {
		return nil
	}
	serials := make([]int64, len(recs))
	lineages := make([]string, len(recs))
	texts := make([]string, len(recs))
	for i, rec := range recs {
		lineage, serial, err := state.RecordHeader(rec)
		if err != nil {
			return err
		}
		serials[i], lineages[i], texts[i] = int64(serial), lineage, string(rec)
	}
	conn, release, err := j.b.conn(j.ctx)
	if err != nil {
		return err
	}
	defer release()
	if _, err := conn.Exec(j.ctx, `INSERT INTO `+j.b.store.q+`.journal (workspace, serial, lineage, record)
		SELECT $1, s, l, r FROM unnest($2::bigint[], $3::text[], $4::text[]) AS t(s, l, r)`,
		j.b.workspace, serials, lineages, texts); err != nil {
		return fmt.Errorf("record changes %d to %d in the journal of %s: %w", serials[0], serials[len(serials)-1], j.b.name(), err)
	}
	return nil
}

// Close drops records never synced: the Txn syncs every record before
// reporting it recorded, so there are none unless a Sync failed.
func (j *journal) Close() error { return nil }

func (j *journal) Fold(s *state.State) error { return j.b.fold(j.ctx, s) }

// maxPlanKeys bounds the keys kept per workspace for lineages that were
// never stored (plans of a workspace never written), as Local does.
const maxPlanKeys = 32

// PlanKey implements state.Backend. Keys are kept per lineage in the
// schema's plan_keys table (a lineage is unique across workspaces).
func (b *Backend) PlanKey(ctx context.Context, lineage string, create bool) ([]byte, error) {
	if lineage == "" {
		return nil, fmt.Errorf("%w: the lineage is empty", state.ErrNoPlanKey)
	}
	conn, release, err := b.conn(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	var key []byte
	err = conn.QueryRow(ctx, `SELECT key FROM `+b.store.q+`.plan_keys WHERE lineage = $1`, lineage).Scan(&key)
	switch {
	case err == nil:
		if len(key) != state.PlanKeySize {
			return nil, fmt.Errorf("the plan key of lineage %s in %s has %d bytes, not %d; delete its row from plan_keys and make the plan again", lineage, b.store.Describe(), len(key), state.PlanKeySize)
		}
		return key, nil
	case !errors.Is(err, pgx.ErrNoRows):
		return nil, fmt.Errorf("read the plan key of %s: %w", b.name(), err)
	case !create:
		return nil, fmt.Errorf("%w %s in %s", state.ErrNoPlanKey, lineage, b.store.Describe())
	}
	key = make([]byte, state.PlanKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("make a plan key: %w", err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO `+b.store.q+`.plan_keys (lineage, workspace, key) VALUES ($1, $2, $3) ON CONFLICT (lineage) DO NOTHING`, lineage, b.workspace, key); err != nil {
		return nil, fmt.Errorf("store a plan key for %s: %w", b.name(), err)
	}
	// Every plan of a workspace never written makes up a lineage: keep
	// the keys of lineages stored in the workspace, and of the newest
	// maxPlanKeys others.
	if _, err := conn.Exec(ctx, `DELETE FROM `+b.store.q+`.plan_keys WHERE workspace = $1
		AND lineage NOT IN (SELECT lineage FROM `+b.store.q+`.versions WHERE workspace = $1
			UNION SELECT lineage FROM `+b.store.q+`.journal WHERE workspace = $1)
		AND lineage NOT IN (SELECT lineage FROM `+b.store.q+`.plan_keys WHERE workspace = $1 ORDER BY created DESC LIMIT $2)`,
		b.workspace, maxPlanKeys); err != nil {
		return nil, fmt.Errorf("prune the plan keys of %s: %w", b.name(), err)
	}
	// Another run may have stored one first: use whichever is stored.
	if err := conn.QueryRow(ctx, `SELECT key FROM `+b.store.q+`.plan_keys WHERE lineage = $1`, lineage).Scan(&key); err != nil {
		return nil, fmt.Errorf("read the plan key of %s: %w", b.name(), err)
	}
	return key, nil
}
