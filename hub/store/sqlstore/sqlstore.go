package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/adshift/adshift/hub/store"
)

// dialect is what differs between databases.
type dialect struct {
	name     string
	dollar   bool   // placeholders $1, $2 … instead of ?
	serial   string // an auto-increment integer primary key
	blob     string // a byte-string column type
	maxConns int
	// forUpdate and skipLocked lock the rows a transaction reads and
	// will write (SQLite needs neither: it has one writer).
	forUpdate, skipLocked string
	// lockMigrations serialises migrations of several processes.
	lockMigrations string
	// txDefault is the reports.tx column's default: the recording
	// transaction's ID (0 on SQLite, whose one writer commits in seq
	// order). finished is a condition on r.tx that holds for transactions
	// that ended, and no later-starting one ("" on SQLite): the changes
	// feed returns only their reports, so its cursor never passes a
	// report still to commit.
	txDefault, finished string
	// notifyValues, when set, tells other hub processes a job was queued
	// for each device in a VALUES list (%s: "(?), (?), …").
	notifyValues string
}

var sqlite = dialect{name: "sqlite", serial: "INTEGER PRIMARY KEY AUTOINCREMENT", blob: "BLOB", maxConns: 1, txDefault: "0"}

// Store is a store.Store on a SQL database. It is safe for concurrent use.
type Store struct {
	db  *sql.DB // writes, and reads inside transactions
	r   *sql.DB // reads outside transactions (SQLite: several readers beside the one writer)
	d   dialect
	dsn string // PostgreSQL: for the LISTEN connection
	// SQLite: writes and urgent queue every writing call for the writer
	// goroutine, which ends when stop is cancelled and then closes wrote.
	writes chan *write
	urgent chan *write
	stop   context.Context
	cancel context.CancelFunc
	wrote  chan struct{}
	params *paramCache
	hot    hotReads
}

// hotReads are the reads every agent request makes (its device, its
// next job), prepared once per reading connection on SQLite, where
// parsing cost more than running them. PostgreSQL's driver caches
// prepared statements itself. Safe for concurrent use.
type hotReads struct {
	mu    sync.Mutex
	stmts map[string]*sql.Stmt // nil: not prepared (PostgreSQL)
}

// queryRow runs a fixed query (never one built per call: each is kept)
// on the readers.
func (s *Store) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	query = s.q(query)
	h := &s.hot
	h.mu.Lock()
	st, ok := h.stmts[query]
	if !ok && h.stmts != nil {
		// Preparing on the readers' pool cannot wait for the writer.
		if p, err := s.r.PrepareContext(ctx, query); err == nil {
			st, h.stmts[query] = p, p
		}
	}
	h.mu.Unlock()
	if st == nil {
		return s.r.QueryRowContext(ctx, query, args...)
	}
	// A lookup of an index takes microseconds: not worth the goroutine
	// database/sql starts per query to watch a cancellable ctx.
	return st.QueryRowContext(context.WithoutCancel(ctx), args...)
}

var _ store.Store = (*Store)(nil)

// OpenSQLite opens (creating when missing) the SQLite database at path and
// migrates it. Writes are durable once a call returns, also across a power
// loss: the database is in WAL mode with synchronous=FULL, so each commit
// fsyncs the WAL before the call returns. Concurrent writing calls are
// committed together (see writer), one fsync per group.
func OpenSQLite(ctx context.Context, path string) (*Store, error) {
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s := &Store{db: db, r: db, d: sqlite, params: newParamCache()}
	// One writing connection: SQLite has one writer, and queueing writers
	// in Go is cheaper than SQLITE_BUSY retries. Reads (WAL) go to a pool
	// of their own, so that they neither wait for writes nor for each other.
	db.SetMaxOpenConns(s.d.maxConns)
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if s.r, err = sql.Open("sqlite", dsn+"&_pragma=query_only(1)"); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s.r.SetMaxOpenConns(4)
	s.hot.stmts = map[string]*sql.Stmt{}
	// The writer outlives the call that opened the store; Close ends it.
	s.stop, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	s.writes, s.urgent, s.wrote = make(chan *write), make(chan *write), make(chan struct{})
	go func() {
		defer close(s.wrote)
		s.writer(s.stop, s.urgent, s.writes)
	}()
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	if s.writes != nil {
		s.cancel()
		<-s.wrote
	}
	for _, st := range s.hot.stmts {
		st.Close()
	}
	if s.r != s.db {
		s.r.Close()
	}
	return s.db.Close()
}

// q rewrites ? placeholders for the dialect.
func (s *Store) q(query string) string {
	if !s.d.dollar {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// nanos and fromNanos store times as Unix nanoseconds; zero stays zero.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// notFound maps sql.ErrNoRows to store.ErrNotFound with its object.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", what, err)
}
