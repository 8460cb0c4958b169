package ldif

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/adshift/adshift/dn"
)

// Journal markers. The header is written and synced before anything else;
// each committed batch ends with a marker carrying the size the changes
// file had after the batch, so recovery knows which tail of the changes
// file belongs to a batch that never committed.
const (
	journalHeader = "# adshift-ldif journal generation="
	batchMarker   = "# adshift-batch-end changes-size="
)

// JournalPath is where Apply journals changes for the snapshot file.
func JournalPath(file string) string { return file + ".journal" }

// journal is the durable log of one Apply call.
type journal struct {
	file, changesFile string
	jf, cf            *os.File
	changesSize       int64
	commented         bool
}

func (j *journal) opened() bool { return j.jf != nil }

func (j *journal) open(generation int64) error {
	cf, err := os.OpenFile(j.changesFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open changes file: %w", err)
	}
	fi, err := cf.Stat()
	if err != nil {
		cf.Close()
		return fmt.Errorf("open changes file: %w", err)
	}
	jf, err := os.OpenFile(JournalPath(j.file), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		cf.Close()
		return fmt.Errorf("create journal: %w", err)
	}
	j.jf, j.cf, j.changesSize = jf, cf, fi.Size()
	header := fmt.Sprintf("%s%d changes-size=%d\n\n", journalHeader, generation, j.changesSize)
	if _, err := jf.WriteString(header); err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	if err := jf.Sync(); err != nil {
		return fmt.Errorf("sync journal: %w", err)
	}
	if err := syncDir(filepath.Dir(j.file)); err != nil {
		return err
	}
	return syncDir(filepath.Dir(j.changesFile))
}

// commit makes one batch durable: the changes file first, then the
// journal with its batch marker. Only after commit returns may the batch's
// results be reported.
func (j *journal) commit(generation int64, jrecs, urecs []*Record) error {
	if !j.opened() {
		if err := j.open(generation); err != nil {
			return err
		}
	}
	var buf bytes.Buffer
	w := NewWriter(&buf)
	if j.changesSize == 0 {
		_ = w.WriteVersion()
	}
	if !j.commented {
		_ = w.WriteComment("adshift apply " + time.Now().UTC().Format(time.RFC3339))
		j.commented = true
	}
	for _, r := range urecs {
		if err := w.WriteRecord(r); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if _, err := j.cf.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write changes file: %w", err)
	}
	if err := j.cf.Sync(); err != nil {
		return fmt.Errorf("sync changes file: %w", err)
	}
	j.changesSize += int64(buf.Len())

	buf.Reset()
	w = NewWriter(&buf)
	for _, r := range jrecs {
		if err := w.WriteRecord(r); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(&buf, "%s%d\n\n", batchMarker, j.changesSize)
	if _, err := j.jf.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	if err := j.jf.Sync(); err != nil {
		return fmt.Errorf("sync journal: %w", err)
	}
	return nil
}

func (j *journal) close() error {
	var errs []error
	if j.jf != nil {
		errs = append(errs, j.jf.Close())
		j.jf = nil
	}
	if j.cf != nil {
		errs = append(errs, j.cf.Close())
		j.cf = nil
	}
	return errors.Join(errs...)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// committedPrefix returns the part of a journal made of committed batches
// and the changes-file size recorded by the last of them (or by the
// header when none committed).
func committedPrefix(data []byte, headerSize int64) ([]byte, int64) {
	end, size := 0, headerSize
	marker := []byte("\n" + batchMarker)
	for off := 0; ; {
		i := bytes.Index(data[off:], marker)
		if i < 0 {
			break
		}
		start := off + i + len(marker)
		nl := bytes.IndexByte(data[start:], '\n')
		if nl < 0 {
			break // the marker itself is torn
		}
		n, err := strconv.ParseInt(string(data[start:start+nl]), 10, 64)
		if err != nil {
			break
		}
		end, size = start+nl+1, n
		off = end - 1
	}
	return data[:end], size
}

// recoverJournal replays the committed part of a journal a killed apply
// left behind onto st, cuts the changes file back to what those batches
// wrote, and folds. It returns the number of records replayed.
func recoverJournal(st *store, file, changesFile string) (int, error) {
	jpath := JournalPath(file)
	data, err := os.ReadFile(jpath)
	if errNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read journal: %w", err)
	}
	nl := bytes.IndexByte(data, '\n')
	if !bytes.HasPrefix(data, []byte(journalHeader)) || nl < 0 {
		// The header never reached the disk, so nothing else did either.
		return 0, removeJournal(jpath)
	}
	var gen, headerSize int64
	if _, err := fmt.Sscanf(string(data[:nl]), journalHeader+"%d changes-size=%d", &gen, &headerSize); err != nil {
		return 0, fmt.Errorf("journal %s: bad header %q; move the journal away if the snapshot is known to be complete", jpath, data[:nl])
	}
	switch {
	case gen < st.generation:
		return 0, removeJournal(jpath) // folded already; only the removal was lost
	case gen > st.generation:
		return 0, fmt.Errorf("journal %s belongs to generation %d but %s is generation %d: the snapshot was replaced during an apply; restore the snapshot or move the journal away", jpath, gen, file, st.generation)
	}
	committed, size := committedPrefix(data, headerSize)
	r := NewReader(bytes.NewReader(committed), filepath.Base(jpath), ReaderOptions{})
	n := 0
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("replay journal: %w", err)
		}
		if err := st.applyRecord(rec); err != nil {
			return 0, fmt.Errorf("replay journal %s line %d: %w", jpath, rec.Line, err)
		}
		n++
	}
	if fi, err := os.Stat(changesFile); err == nil && fi.Size() > size {
		if err := os.Truncate(changesFile, size); err != nil {
			return 0, fmt.Errorf("cut uncommitted changes from %s: %w", changesFile, err)
		}
	}
	if err := fold(st, file); err != nil {
		return 0, err
	}
	return n, nil
}

func removeJournal(path string) error {
	if err := os.Remove(path); err != nil && !errNotExist(err) {
		return fmt.Errorf("remove journal: %w", err)
	}
	return syncDir(filepath.Dir(path))
}

// fold writes st as the new snapshot (temp file, fsync, rename, fsync of
// the directory) with the next generation, then removes the journal.
func fold(st *store, file string) error {
	dir := filepath.Dir(file)
	tmp, err := os.CreateTemp(dir, filepath.Base(file)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename this fails harmlessly
	if fi, err := os.Stat(file); err == nil {
		_ = tmp.Chmod(fi.Mode().Perm())
	}
	gen := st.generation + 1
	if err := writeSnapshot(tmp, st, gen); err != nil {
		tmp.Close()
		return fmt.Errorf("write snapshot: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync snapshot: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return fmt.Errorf("replace snapshot: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	st.generation = gen
	return removeJournal(JournalPath(file))
}

// writeSnapshot writes every entry, parents before children, in file order
// otherwise.
func writeSnapshot(out io.Writer, st *store, gen int64) error {
	w := NewWriter(out)
	if err := w.WriteComment(strings.TrimPrefix(generationPrefix, "# ") + strconv.FormatInt(gen, 10)); err != nil {
		return err
	}
	if err := w.WriteVersion(); err != nil {
		return err
	}
	written := make(map[*entry]bool, len(st.entries))
	var write func(e *entry) error
	write = func(e *entry) error {
		if written[e] {
			return nil
		}
		written[e] = true
		if parent, ok := st.entries[dn.ParentKey(e.key)]; ok && !written[parent] {
			if err := write(parent); err != nil {
				return err
			}
		}
		return w.WriteRecord(&Record{DN: e.dnStr, Attrs: e.attrs})
	}
	for _, e := range st.sorted() {
		if err := write(e); err != nil {
			return err
		}
	}
	return w.Flush()
}
