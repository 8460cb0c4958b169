package plans

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// A plan file is
//
//	adshift plan file\n
//	lineage <state lineage>\n
//	<one gzip member: the Plan as JSON>
//	mac <HMAC-SHA256 of every byte before this line, 64 hex digits>\n
//
// The MAC's key is the state's secret plan key for the lineage (see
// state.Backend.PlanKey); it is never in the file. The lineage stands in
// the clear so the reader can find the key before it decodes anything.

// magic starts every plan file, so a wrong file is recognised at once.
const magic = "adshift plan file\n"

const (
	lineagePrefix = "lineage "
	macPrefix     = "mac "
	// trailerLen is the length of the mac line.
	trailerLen = len(macPrefix) + 2*sha256.Size + 1
	// maxHeaderLine bounds the lineage line.
	maxHeaderLine = 256
)

// ErrNotPlan is returned for a file that is not an adshift plan.
var ErrNotPlan = errors.New("not an adshift plan file")

// ErrPlanAltered is returned for a plan file that changed after plan -out
// wrote it: its authentication code, gzip checksum or length do not match,
// or its parts disagree. Nothing in such a file may be used.
var ErrPlanAltered = errors.New("the plan file was altered after adshift plan wrote it")

// KeyFunc returns the secret key that authenticates plans of a state
// lineage.
type KeyFunc func(lineage string) ([]byte, error)

// maxPlanBytes bounds the decompressed size of a plan (a hostile or broken
// file cannot exhaust memory).
const maxPlanBytes = 4 << 30

// WriteFile saves p atomically at path (temp file, fsync, rename),
// authenticated with key (the state's plan key for p.Lineage).
func WriteFile(path string, p *Plan, key []byte) error {
	if len(key) == 0 {
		return errors.New("save plan: no plan key")
	}
	if p.Lineage == "" || strings.ContainsAny(p.Lineage, "\r\n") || len(p.Lineage) > maxHeaderLine-len(lineagePrefix)-1 {
		return fmt.Errorf("save plan: invalid state lineage %q", p.Lineage)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".adshift-plan-*")
	if err != nil {
		return fmt.Errorf("save plan: %w", err)
	}
	defer os.Remove(tmp.Name())
	mac := hmac.New(sha256.New, key)
	bw := bufio.NewWriterSize(io.MultiWriter(tmp, mac), 1<<16)
	bw.WriteString(magic)
	bw.WriteString(lineagePrefix + p.Lineage + "\n")
	zw := gzip.NewWriter(bw)
	enc := json.NewEncoder(zw)
	err = enc.Encode(p)
	if err == nil {
		err = zw.Close()
	}
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		_, err = fmt.Fprintf(tmp, "%s%x\n", macPrefix, mac.Sum(nil))
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("save plan: %w", err)
	}
	return nil
}

// ReadFile loads a plan saved by WriteFile. The whole file is checked
// before any of it is decoded: its authentication code against the key
// keyFor returns for the lineage in its header, then the gzip checksum and
// length. A file that fails a check is ErrPlanAltered; an error of keyFor
// is returned wrapped as it is.
func ReadFile(path string, keyFor KeyFunc) (*Plan, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	p, err := Read(f, fi.Size(), keyFor)
	if err != nil {
		return nil, fmt.Errorf("read plan %s: %w", path, err)
	}
	return p, nil
}

// Read decodes a plan of size bytes from r; see ReadFile.
func Read(r io.ReaderAt, size int64, keyFor KeyFunc) (*Plan, error) {
	head := make([]byte, min(size, int64(len(magic)+maxHeaderLine)))
	if _, err := r.ReadAt(head, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if !bytes.HasPrefix(head, []byte(magic)) {
		return nil, fmt.Errorf("%w: it does not start with the plan header; pass a file written by adshift plan -out", ErrNotPlan)
	}
	rest := head[len(magic):]
	if len(rest) >= 2 && rest[0] == 0x1f && rest[1] == 0x8b {
		return nil, fmt.Errorf("%w: it was written by an older adshift (plan format 1, without integrity protection); make a new plan with adshift plan -out", ErrNotPlan)
	}
	nl := bytes.IndexByte(rest, '\n')
	if !bytes.HasPrefix(rest, []byte(lineagePrefix)) || nl < 0 {
		return nil, fmt.Errorf("%w: its header is damaged (no lineage line)", ErrPlanAltered)
	}
	lineage := string(rest[len(lineagePrefix):nl])
	bodyStart := int64(len(magic) + nl + 1)
	bodyEnd := size - int64(trailerLen)
	if lineage == "" || bodyEnd <= bodyStart {
		return nil, fmt.Errorf("%w: it is truncated or its header is damaged", ErrPlanAltered)
	}
	trailer := make([]byte, trailerLen)
	if _, err := r.ReadAt(trailer, bodyEnd); err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(trailer, []byte(macPrefix)) || trailer[trailerLen-1] != '\n' {
		return nil, fmt.Errorf("%w: its authentication code is missing (the file is truncated, or something was appended)", ErrPlanAltered)
	}
	want := trailer[len(macPrefix) : trailerLen-1]
	key, err := keyFor(lineage)
	if err != nil {
		return nil, err
	}
	mac := hmac.New(sha256.New, key)
	if _, err := io.Copy(mac, io.NewSectionReader(r, 0, bodyEnd)); err != nil {
		return nil, err
	}
	if !hmac.Equal([]byte(hex.EncodeToString(mac.Sum(nil))), want) {
		return nil, fmt.Errorf("%w: its content does not match its authentication code (it was edited, damaged in transfer or copied from another state)", ErrPlanAltered)
	}
	zr, err := gzip.NewReader(io.NewSectionReader(r, bodyStart, bodyEnd-bodyStart))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPlanAltered, err)
	}
	zr.Multistream(false)
	data, err := io.ReadAll(io.LimitReader(zr, maxPlanBytes+1))
	if err != nil { // a wrong gzip checksum or length is reported here
		return nil, fmt.Errorf("%w: %v", ErrPlanAltered, err)
	}
	if len(data) > maxPlanBytes {
		return nil, fmt.Errorf("%w: it decompresses to more than %d bytes", ErrNotPlan, maxPlanBytes)
	}
	var vers struct {
		FormatVersion int `json:"format_version"`
	}
	if err := json.Unmarshal(data, &vers); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPlanAltered, err)
	}
	if vers.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("the plan has format version %d; this adshift reads version %d: make the plan with the same adshift version that applies it", vers.FormatVersion, FormatVersion)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p Plan
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("%w: %v; make a new plan", ErrNotPlan, err)
	}
	if p.Lineage != lineage {
		return nil, fmt.Errorf("%w: its header names state lineage %s but its content %s", ErrPlanAltered, lineage, p.Lineage)
	}
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("%w: %v; make a new plan", ErrNotPlan, err)
	}
	return &p, nil
}

// validate checks the invariants apply relies on.
func (p *Plan) validate() error {
	ids := make(map[int64]bool, len(p.Changes))
	for i, c := range p.Changes {
		if c == nil {
			return fmt.Errorf("change %d is empty", i)
		}
		if ids[c.ID] {
			return fmt.Errorf("change ID %d appears twice", c.ID)
		}
		ids[c.ID] = true
		switch c.Action {
		case Create, Update, Move, Delete:
		default:
			return fmt.Errorf("change %s has unknown action %q", c.Address, c.Action)
		}
		if c.DN == "" || c.Environment == "" {
			return fmt.Errorf("change %s lacks a DN or environment", c.Address)
		}
		if c.Action == Move && c.NewDN == "" {
			return fmt.Errorf("move %s lacks its destination", c.Address)
		}
	}
	for _, c := range p.Changes {
		for _, d := range c.DependsOn {
			if !ids[d] {
				return fmt.Errorf("change %s depends on unknown change %d", c.Address, d)
			}
		}
	}
	return nil
}
