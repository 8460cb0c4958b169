package pg

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/adshift/adshift/state"
)

// DefaultSchema is the schema used when Options.Schema is empty.
const DefaultSchema = "adshift"

// Options configure a Store.
type Options struct {
	// ConnString is a libpq connection string or URL. It is a secret.
	ConnString string
	// Schema holds the tables; "" means DefaultSchema. A lower-case SQL
	// identifier.
	Schema string
}

// Store is the set of workspaces in one schema. It holds no connection
// between calls and is safe for concurrent use.
type Store struct {
	connStr string
	schema  string
	q       string // the quoted schema, for SQL

	mu       sync.Mutex
	migrated bool
}

var _ state.Workspaces = (*Store)(nil)

// New returns the Store of opts. Nothing is connected until a method is
// called.
func New(opts Options) (*Store, error) {
	schema := opts.Schema
	if schema == "" {
		schema = DefaultSchema
	}
	if !validSchema(schema) {
		return nil, fmt.Errorf("pg backend: invalid schema name %q: use a lower-case SQL identifier", schema)
	}
	if opts.ConnString == "" {
		return nil, errors.New("pg backend: no connection string: set conn_str in the backend block, or ADSHIFT_PG_CONN_STR (or PG_CONN_STR)")
	}
	return &Store{connStr: opts.ConnString, schema: schema, q: pgx.Identifier{schema}.Sanitize()}, nil
}

func validSchema(s string) bool {
	if len(s) == 0 || len(s) > 63 {
		return false
	}
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// Schema returns the schema name.
func (s *Store) Schema() string { return s.schema }

// Describe implements state.Workspaces; it names the schema and the
// server's host and database, never the password.
func (s *Store) Describe() string {
	where := ""
	if cfg, err := pgconn.ParseConfig(s.connStr); err == nil {
		where = fmt.Sprintf(" on %s:%d/%s", cfg.Host, cfg.Port, cfg.Database)
	}
	return "PostgreSQL schema " + s.schema + where
}

// connect opens a connection and makes sure the schema is migrated.
func (s *Store) connect(ctx context.Context) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.connStr)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", s.Describe(), err)
	}
	if err := s.migrate(ctx, conn); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return conn, nil
}

// lockKey is the advisory lock key of a workspace in this schema.
func (s *Store) lockKey(workspace string) int64 {
	h := fnv.New64a()
	h.Write([]byte("adshift\x00" + s.schema + "\x00" + workspace))
	return int64(h.Sum64())
}

// List implements state.Workspaces.
func (s *Store) List(ctx context.Context) ([]string, error) {
	conn, err := s.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, `SELECT name FROM `+s.q+`.workspaces WHERE name <> $1 ORDER BY name`, state.DefaultWorkspace)
	if err != nil {
		return nil, fmt.Errorf("list workspaces in %s: %w", s.Describe(), err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list workspaces in %s: %w", s.Describe(), err)
	}
	names = append(names, state.DefaultWorkspace)
	slices.Sort(names)
	return names, nil
}

// Create implements state.Workspaces.
func (s *Store) Create(ctx context.Context, name string) error {
	if err := state.CheckWorkspaceName(name); err != nil {
		return err
	}
	if name == state.DefaultWorkspace {
		return fmt.Errorf("workspace %q: %w", name, state.ErrWorkspaceExists)
	}
	conn, err := s.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tag, err := conn.Exec(ctx, `INSERT INTO `+s.q+`.workspaces (name) VALUES ($1) ON CONFLICT DO NOTHING`, name)
	if err != nil {
		return fmt.Errorf("create workspace %s in %s: %w", name, s.Describe(), err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("workspace %q in %s: %w", name, s.Describe(), state.ErrWorkspaceExists)
	}
	return nil
}

// Delete implements state.Workspaces: the workspace's versions, journal,
// plan keys and lock row go in one transaction.
func (s *Store) Delete(ctx context.Context, name string) error {
	if name == state.DefaultWorkspace {
		return errors.New("the default workspace cannot be deleted")
	}
	conn, err := s.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM `+s.q+`.workspaces WHERE name = $1`, name)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("workspace %q in %s: %w", name, s.Describe(), state.ErrNoWorkspace)
		}
		for _, t := range []string{"versions", "journal", "plan_keys", "locks"} {
			if _, err := tx.Exec(ctx, `DELETE FROM `+s.q+`.`+t+` WHERE workspace = $1`, name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, state.ErrNoWorkspace) {
		return fmt.Errorf("delete workspace %s in %s: %w", name, s.Describe(), err)
	}
	return err
}

// Backend implements state.Workspaces; it returns a *Backend.
func (s *Store) Backend(ctx context.Context, name string) (state.Backend, error) {
	if err := state.CheckWorkspaceName(name); err != nil {
		return nil, err
	}
	if name != state.DefaultWorkspace {
		conn, err := s.connect(ctx)
		if err != nil {
			return nil, err
		}
		defer conn.Close(context.WithoutCancel(ctx))
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM `+s.q+`.workspaces WHERE name = $1`, name).Scan(&n); err != nil {
			return nil, fmt.Errorf("find workspace %s in %s: %w", name, s.Describe(), err)
		}
		if n == 0 {
			return nil, fmt.Errorf("workspace %q in %s: %w", name, s.Describe(), state.ErrNoWorkspace)
		}
	}
	return &Backend{store: s, workspace: name}, nil
}
