package plans

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// magic starts every plan file, so a wrong file is recognised at once.
const magic = "adshift plan file\n"

// ErrNotPlan is returned for a file that is not an adshift plan.
var ErrNotPlan = errors.New("not an adshift plan file")

// maxPlanBytes bounds the decompressed size of a plan (a hostile or broken
// file cannot exhaust memory).
const maxPlanBytes = 4 << 30

// WriteFile saves p atomically at path (temp file, fsync, rename).
func WriteFile(path string, p *Plan) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".adshift-plan-*")
	if err != nil {
		return fmt.Errorf("save plan: %w", err)
	}
	defer os.Remove(tmp.Name())
	bw := bufio.NewWriterSize(tmp, 1<<16)
	bw.WriteString(magic)
	zw := gzip.NewWriter(bw)
	enc := json.NewEncoder(zw)
	if err := enc.Encode(p); err != nil {
		tmp.Close()
		return fmt.Errorf("save plan: %w", err)
	}
	if err := zw.Close(); err != nil {
		tmp.Close()
		return fmt.Errorf("save plan: %w", err)
	}
	if err := bw.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("save plan: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save plan: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save plan: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save plan: %w", err)
	}
	return nil
}

// ReadFile loads a plan saved by WriteFile.
func ReadFile(path string) (*Plan, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	defer f.Close()
	p, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("read plan %s: %w", path, err)
	}
	return p, nil
}

// Read decodes a plan from r.
func Read(r io.Reader) (*Plan, error) {
	br := bufio.NewReader(r)
	head := make([]byte, len(magic))
	if _, err := io.ReadFull(br, head); err != nil || !bytes.Equal(head, []byte(magic)) {
		return nil, fmt.Errorf("%w: it does not start with the plan header; pass a file written by adshift plan -out", ErrNotPlan)
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, fmt.Errorf("%w: the file is damaged (%v); make a new plan", ErrNotPlan, err)
	}
	dec := json.NewDecoder(io.LimitReader(zr, maxPlanBytes))
	dec.DisallowUnknownFields()
	var p Plan
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("%w: the file is damaged (%v); make a new plan", ErrNotPlan, err)
	}
	if p.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("the plan has format version %d; this adshift reads version %d: make the plan with the same adshift version that applies it", p.FormatVersion, FormatVersion)
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
