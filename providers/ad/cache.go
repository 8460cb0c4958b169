package ad

import (
	"bufio"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/adshift/adshift/providers"
)

// cacheVersion is the discovery cache's format; a cache of another
// version is not used (the next read is full and rewrites it).
const cacheVersion = 1

// cacheMagic starts every cache file.
const cacheMagic = "adshift ad discovery cache\n"

// dcMark is where a read of one DC stands: the DC (its dnsHostName), its
// database's identity (the invocationId of its NTDS Settings object, which
// changes when the database is restored) and its highestCommittedUSN.
type dcMark struct {
	Server       string
	InvocationID string
	USN          int64
}

// discoCache is what a cached discovery read of one scope: every object
// emitted, the containers in scope that are of no served kind but can hold
// objects (to follow their renames and moves), and the DC mark taken before
// the read began. It holds attribute values as read, never secrets (the
// provider reads no password attributes).
type discoCache struct {
	Version    int
	Scope      string // scopeKey of the scope read
	Mark       dcMark
	Objects    []providers.Object
	Containers map[string]string // lower-case GUID → DN
}

// scopeKey identifies what a scope reads: a cache answers only the same
// scope, kinds and attributes.
func (d *discovery) scopeKey() string {
	var b strings.Builder
	b.WriteString(NormalizeDN(d.base))
	b.WriteString("\x00")
	b.WriteString(strings.Join(sortedCopy(d.nroots), "\x01"))
	b.WriteString("\x00")
	b.WriteString(strings.Join(sortedCopy(d.excludes), "\x01"))
	b.WriteString("\x00")
	var kinds []string
	for k := range d.kinds {
		kinds = append(kinds, string(k))
	}
	b.WriteString(strings.Join(sortedCopy(kinds), ","))
	b.WriteString("\x00")
	if d.wantAll {
		b.WriteString("*")
	} else {
		var attrs []string
		for a := range d.want {
			attrs = append(attrs, a)
		}
		b.WriteString(strings.Join(sortedCopy(attrs), ","))
	}
	return b.String()
}

func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// loadCache reads the cache at path. It returns nil and why when there is
// none or it cannot serve scope from mark's DC: the caller reads in full.
func loadCache(path, scope string, mark dcMark) (*discoCache, string) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "no cache yet"
	}
	if err != nil {
		return nil, fmt.Sprintf("cannot open the cache: %v", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<16)
	magic := make([]byte, len(cacheMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != cacheMagic {
		return nil, "not a discovery cache"
	}
	var c discoCache
	if err := gob.NewDecoder(r).Decode(&c); err != nil {
		return nil, fmt.Sprintf("unreadable cache: %v", err)
	}
	switch {
	case c.Version != cacheVersion:
		return nil, fmt.Sprintf("cache format %d, not %d", c.Version, cacheVersion)
	case c.Scope != scope:
		return nil, "the scope, kinds or attributes asked for differ from the cached read's"
	case !strings.EqualFold(c.Mark.InvocationID, mark.InvocationID):
		return nil, fmt.Sprintf("the cache was read from %s (invocationId %s), this read is from %s (invocationId %s)", c.Mark.Server, c.Mark.InvocationID, mark.Server, mark.InvocationID)
	case c.Mark.USN > mark.USN:
		return nil, fmt.Sprintf("the DC's highestCommittedUSN %d is below the cache's %d", mark.USN, c.Mark.USN)
	}
	if c.Containers == nil {
		c.Containers = map[string]string{}
	}
	return &c, ""
}

// save writes c to path atomically: a temporary file beside it, synced,
// then renamed over it.
func (c *discoCache) save(path string) (err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("write discovery cache: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write discovery cache: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			err = fmt.Errorf("write discovery cache %s: %w", path, err)
		}
	}()
	w := bufio.NewWriterSize(tmp, 1<<16)
	if _, err := w.WriteString(cacheMagic); err != nil {
		return err
	}
	if err := gob.NewEncoder(w).Encode(c); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
