package lab

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// The ReACL rollback journal lives in journal/ as generations,
// journal/reacl-NNNN.jnl, each written by one kind of run (reacl with one
// mode and SID map, or cleanup) and rolled back as a whole. A generation
// is append-only JSON lines:
//
//	{"k":"begin","action":"reacl","mode":"add","map":"<sha256 of the map>","time":…}
//	{"k":"blob","id":0,"data":"<base64>"}           original or new bytes, once per distinct value
//	{"k":"item","kind":"xattr","path":"disk/d000/…","orig":0,"new":1}
//	{"k":"item","kind":"file","path":"profiles.json","orig":2,"new":3}
//	{"k":"end","items":…,"changed":…,"time":…}        a run finished (a resumed one appends another)
//	{"k":"rolled_back","time":…}                      reacl_rollback restored every item
//
// An item is journaled, and the journal fsynced, before the item is
// changed; each item appears at most once per generation, with the bytes
// it had before the generation first changed it. Descriptors repeat (a
// file system shares a few descriptors among many files), so their bytes
// are stored once per generation as blobs. A crash can leave a torn last
// line, which opening the journal drops; any other unreadable line fails
// loudly, naming the file and line.

// journal record kinds.
const (
	recBegin      = "begin"
	recBlob       = "blob"
	recItem       = "item"
	recEnd        = "end"
	recRolledBack = "rolled_back"
)

// item kinds.
const (
	itemXattr = "xattr" // the security.NTACL xattr of Path
	itemFile  = "file"  // the whole content of Path (profiles.json, groups.json)
)

type journalRec struct {
	K      string `json:"k"`
	Action string `json:"action,omitempty"`
	Mode   string `json:"mode,omitempty"`
	Map    string `json:"map,omitempty"`
	ID     *int   `json:"id,omitempty"`
	Data   []byte `json:"data,omitempty"`
	Kind   string `json:"kind,omitempty"`
	Path   string `json:"path,omitempty"`
	Orig   *int   `json:"orig,omitempty"`
	New    *int   `json:"new,omitempty"`
	Items  int    `json:"items,omitempty"`
	Change int    `json:"changed,omitempty"`
	Time   string `json:"time,omitempty"`
}

// journalKey says which runs share a generation.
type journalKey struct{ Action, Mode, Map string }

// journalItem is one journaled item of a generation.
type journalItem struct {
	Kind, Path string
	Orig, New  []byte
}

// generation is one journal file, read back.
type generation struct {
	path       string
	name       string // reacl-0001
	key        journalKey
	items      []journalItem
	index      map[string]int // Kind+"\x00"+Path → items index
	blobs      [][]byte
	blobIDs    map[[32]byte]int
	ended      bool
	rolledBack bool

	f *os.File
	w *bufio.Writer
}

// journal is the set of generations of a device.
type journal struct {
	dir  string
	gens []*generation // oldest first
}

// openJournal reads every generation in dir (journal/ of a device),
// dropping a torn last line.
func openJournal(dir string) (*journal, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("open reacl journal: %w", err)
	}
	names, err := filepath.Glob(filepath.Join(dir, "reacl-*.jnl"))
	if err != nil {
		return nil, fmt.Errorf("open reacl journal %s: %w", dir, err)
	}
	slices.Sort(names)
	j := &journal{dir: dir}
	for _, n := range names {
		g, err := readGeneration(n)
		if errors.Is(err, errEmptyGeneration) {
			// A crash while the generation was being created: it
			// journaled nothing, so no change relied on it.
			if err := os.Remove(n); err != nil {
				return nil, fmt.Errorf("reacl journal: %w", err)
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		j.gens = append(j.gens, g)
	}
	return j, nil
}

// errEmptyGeneration reports a generation file without one whole line.
var errEmptyGeneration = errors.New("empty reacl journal generation")

func readGeneration(path string) (*generation, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read reacl journal: %w", err)
	}
	g, good, err := parseGeneration(path, data)
	if good < len(data) && (err == nil || errors.Is(err, errEmptyGeneration)) {
		if err := os.Truncate(path, int64(good)); err != nil {
			return nil, fmt.Errorf("reacl journal %s: drop torn last line: %w", path, err)
		}
	}
	return g, err
}

// parseGeneration reads a generation's lines from data and returns it
// with the length of its whole lines (a torn last line is not part of
// it).
func parseGeneration(path string, data []byte) (*generation, int, error) {
	g := &generation{path: path, name: strings.TrimSuffix(filepath.Base(path), ".jnl"), index: map[string]int{}, blobIDs: map[[32]byte]int{}}
	good := 0
	for line := 1; len(data) > good; line++ {
		nl := bytes.IndexByte(data[good:], '\n')
		if nl < 0 {
			break // torn last line: never fsynced as a whole, nothing relied on it
		}
		var r journalRec
		if err := json.Unmarshal(data[good:good+nl], &r); err != nil {
			return nil, good, fmt.Errorf("reacl journal %s line %d is unreadable (%v); move the file aside only if you know its items need no rollback", path, line, err)
		}
		if (line == 1) != (r.K == recBegin) {
			return nil, good, fmt.Errorf("reacl journal %s line %d: a generation begins with one begin record; move the file aside only if you know its items need no rollback", path, line)
		}
		if err := g.apply(r); err != nil {
			return nil, good, fmt.Errorf("reacl journal %s line %d: %w", path, line, err)
		}
		good += nl + 1
	}
	if good == 0 {
		return nil, good, fmt.Errorf("%s: %w", path, errEmptyGeneration)
	}
	return g, good, nil
}

// apply adds a record read back to g.
func (g *generation) apply(r journalRec) error {
	switch r.K {
	case recBegin:
		g.key = journalKey{r.Action, r.Mode, r.Map}
	case recBlob:
		if r.ID == nil || *r.ID != len(g.blobs) {
			return fmt.Errorf("blob out of sequence")
		}
		g.blobs = append(g.blobs, r.Data)
		g.blobIDs[sha256.Sum256(r.Data)] = *r.ID
	case recItem:
		if (r.Kind != itemXattr && r.Kind != itemFile) || !filepath.IsLocal(r.Path) {
			return fmt.Errorf("item of kind %q at %q: want %s or %s at a path inside the device directory", r.Kind, r.Path, itemXattr, itemFile)
		}
		if r.Orig == nil || r.New == nil || *r.Orig >= len(g.blobs) || *r.New >= len(g.blobs) || *r.Orig < 0 || *r.New < 0 {
			return fmt.Errorf("item %s names an unknown blob", r.Path)
		}
		k := r.Kind + "\x00" + r.Path
		if _, dup := g.index[k]; dup {
			return fmt.Errorf("item %s journaled twice", r.Path)
		}
		g.index[k] = len(g.items)
		g.items = append(g.items, journalItem{Kind: r.Kind, Path: r.Path, Orig: g.blobs[*r.Orig], New: g.blobs[*r.New]})
	case recEnd:
		g.ended = true
	case recRolledBack:
		g.rolledBack = true
	default:
		return fmt.Errorf("unknown record %q", r.K)
	}
	return nil
}

// active returns the generations not rolled back, newest first.
func (j *journal) active() []*generation {
	var out []*generation
	for i := len(j.gens) - 1; i >= 0; i-- {
		if !j.gens[i].rolledBack {
			out = append(out, j.gens[i])
		}
	}
	return out
}

// generationFor returns the generation a run with key appends to: the
// newest one when it has that key and is not rolled back (the run resumes
// or repeats it), else a new one.
func (j *journal) generationFor(key journalKey, now time.Time) (*generation, error) {
	if n := len(j.gens); n > 0 && j.gens[n-1].key == key && !j.gens[n-1].rolledBack {
		g := j.gens[n-1]
		return g, g.openAppend()
	}
	next := 1
	if n := len(j.gens); n > 0 {
		// One past the newest, even if an older file was moved away.
		fmt.Sscanf(j.gens[n-1].name, "reacl-%d", &next)
		next++
	}
	g := &generation{
		name:    fmt.Sprintf("reacl-%04d", next),
		key:     key,
		index:   map[string]int{},
		blobIDs: map[[32]byte]int{},
	}
	g.path = filepath.Join(j.dir, g.name+".jnl")
	f, err := os.OpenFile(g.path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("new reacl journal: %w", err)
	}
	g.f, g.w = f, bufio.NewWriterSize(f, 64<<10)
	if err := g.write(journalRec{K: recBegin, Action: key.Action, Mode: key.Mode, Map: key.Map, Time: now.UTC().Format(time.RFC3339)}); err != nil {
		return nil, err
	}
	if err := g.sync(); err != nil {
		return nil, err
	}
	if err := syncDir(j.dir); err != nil {
		return nil, err
	}
	j.gens = append(j.gens, g)
	return g, nil
}

func (g *generation) openAppend() error {
	f, err := os.OpenFile(g.path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("reacl journal: %w", err)
	}
	g.f, g.w = f, bufio.NewWriterSize(f, 64<<10)
	return nil
}

// has reports whether the item is journaled in g.
func (g *generation) has(kind, path string) bool {
	_, ok := g.index[kind+"\x00"+path]
	return ok
}

// add journals an item (buffered: sync makes it durable).
func (g *generation) add(kind, path string, orig, changed []byte) error {
	o, err := g.blob(orig)
	if err != nil {
		return err
	}
	n, err := g.blob(changed)
	if err != nil {
		return err
	}
	if err := g.write(journalRec{K: recItem, Kind: kind, Path: path, Orig: &o, New: &n}); err != nil {
		return err
	}
	g.index[kind+"\x00"+path] = len(g.items)
	g.items = append(g.items, journalItem{Kind: kind, Path: path, Orig: g.blobs[o], New: g.blobs[n]})
	return nil
}

func (g *generation) blob(b []byte) (int, error) {
	sum := sha256.Sum256(b)
	if id, ok := g.blobIDs[sum]; ok {
		return id, nil
	}
	id := len(g.blobs)
	b = bytes.Clone(b)
	if err := g.write(journalRec{K: recBlob, ID: &id, Data: b}); err != nil {
		return 0, err
	}
	g.blobs = append(g.blobs, b)
	g.blobIDs[sum] = id
	return id, nil
}

func (g *generation) write(r journalRec) error {
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("reacl journal %s: %w", g.path, err)
	}
	if _, err := g.w.Write(append(data, '\n')); err != nil {
		return fmt.Errorf("reacl journal %s: %w", g.path, err)
	}
	return nil
}

// sync makes every record written so far durable.
func (g *generation) sync() error {
	if err := g.w.Flush(); err != nil {
		return fmt.Errorf("reacl journal %s: %w", g.path, err)
	}
	if err := g.f.Sync(); err != nil {
		return fmt.Errorf("reacl journal %s: %w", g.path, err)
	}
	return nil
}

// mark appends an end or rolled_back record durably.
func (g *generation) mark(r journalRec) error {
	if g.f == nil {
		if err := g.openAppend(); err != nil {
			return err
		}
	}
	if err := g.write(r); err != nil {
		return err
	}
	return g.sync()
}

func (g *generation) close() error {
	if g.f == nil {
		return nil
	}
	err := g.w.Flush()
	if cerr := g.f.Close(); err == nil {
		err = cerr
	}
	g.f, g.w = nil, nil
	if err != nil {
		return fmt.Errorf("reacl journal %s: %w", g.path, err)
	}
	return nil
}

// journalSummary is journal/reacl-NNNN.summary.json, rewritten after each
// run and rollback of the generation; upload_logs ships it.
type journalSummary struct {
	Generation string `json:"generation"`
	Action     string `json:"action"`
	Mode       string `json:"mode"`
	Items      int    `json:"items"`
	Changed    int    `json:"changed"`
	Unchanged  int    `json:"unchanged"`
	Skipped    int    `json:"skipped"`
	Failed     int    `json:"failed"`
	Journaled  int    `json:"journaled"`
	// Unmapped lists (up to 100) source-domain SIDs the descriptors name
	// without a mapping.
	Unmapped   []string `json:"unmapped,omitempty"`
	RolledBack bool     `json:"rolled_back"`
	Time       string   `json:"time"`
}

func writeSummary(dir string, s journalSummary) error {
	return writeJSON(filepath.Join(dir, s.Generation+".summary.json"), s)
}

// syncDir fsyncs a directory so that a file created in it survives a
// crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
