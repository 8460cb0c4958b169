package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Journal record operations.
const (
	opPutObject    = "put_object"
	opDeleteObject = "delete_object"
	opPutDevice    = "put_device"
	opDeleteDevice = "delete_device"
)

// recordUpgrades[v] turns a version-v journal record into a version-(v+1)
// one, like upgrades does for snapshots; empty while only version 1 exists.
var recordUpgrades = map[int]func([]byte) ([]byte, error){}

// record is one line of a journal: one change, the lineage of the state it
// belongs to and the serial the state has once the change is applied.
type record struct {
	Version int     `json:"version"`
	Lineage string  `json:"lineage"`
	Serial  uint64  `json:"serial"`
	Op      string  `json:"op"`
	Address string  `json:"address,omitempty"` // delete_* only
	Object  *Object `json:"object,omitempty"`  // put_object only
	Device  *Device `json:"device,omitempty"`  // put_device only
}

// validate checks that r is well formed for its operation.
func (r *record) validate() error {
	switch r.Op {
	case opPutObject:
		if r.Object == nil || r.Object.Address == "" {
			return errors.New("put_object without an object address")
		}
	case opPutDevice:
		if r.Device == nil || r.Device.Address == "" {
			return errors.New("put_device without a device address")
		}
	case opDeleteObject, opDeleteDevice:
		if r.Address == "" {
			return fmt.Errorf("%s without an address", r.Op)
		}
	default:
		return fmt.Errorf("unknown operation %q", r.Op)
	}
	return nil
}

// apply applies a validated record to s, taking ownership of its values,
// and sets s.Serial to the record's serial.
func (r *record) apply(s *State) {
	switch r.Op {
	case opPutObject:
		s.Objects[r.Object.Address] = r.Object
	case opPutDevice:
		s.Devices[r.Device.Address] = r.Device
	case opDeleteObject:
		delete(s.Objects, r.Address)
	case opDeleteDevice:
		delete(s.Devices, r.Address)
	}
	s.Serial = r.Serial
}

// appendRecord appends r as one compact JSON line to buf.
func appendRecord(buf *bytes.Buffer, r *record) error {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	return enc.Encode(r) // Encode ends the line with '\n'
}

// replayResult says what a replay found.
type replayResult struct {
	Applied int  // records applied
	Skipped int  // records already in the snapshot (serial not above it)
	Torn    bool // the last line was incomplete and ignored
}

// replay applies the journal in data to s and returns the resulting State.
// s is nil when there is no snapshot: the state then starts empty, with the
// journal's lineage. journalName and stateName name the two files in errors.
//
// A last line that does not parse (a crash in the middle of a write, or a
// tail of zeros a filesystem left) is ignored; a bad line followed by good
// ones is corruption and an error, since ignoring it would lose changes.
// Records whose serial is not above the state's are skipped (they were
// folded into the snapshot before a crash kept the journal from being
// removed); any other gap in the serials is an error.
func replay(s *State, data []byte, journalName, stateName string) (*State, replayResult, error) {
	var res replayResult
	lineNo := 0
	for len(data) > 0 {
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		lineNo++
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var r record
		if err := json.Unmarshal(line, &r); err != nil {
			if onlyPadding(data) {
				res.Torn = true
				break
			}
			return nil, res, fmt.Errorf("%s line %d: %w", journalName, lineNo, err)
		}
		switch {
		case r.Version > FormatVersion:
			return nil, res, &newerFormatError{what: journalName, version: r.Version}
		case r.Version < 1:
			return nil, res, fmt.Errorf("%s line %d: missing or invalid format version %d", journalName, lineNo, r.Version)
		case r.Version < FormatVersion:
			// A journal left by a crash of an older adshift.
			up, err := upgrade(line, r.Version, FormatVersion, recordUpgrades)
			if err == nil {
				r = record{}
				err = json.Unmarshal(up, &r)
			}
			if err != nil {
				return nil, res, fmt.Errorf("%s line %d: upgrade: %w", journalName, lineNo, err)
			}
		}
		if err := r.validate(); err != nil {
			return nil, res, fmt.Errorf("%s line %d: %w", journalName, lineNo, err)
		}
		if s == nil {
			s = New()
			s.Lineage = r.Lineage
		}
		if r.Lineage != s.Lineage {
			return nil, res, &lineageError{
				what: journalName, lineage: r.Lineage,
				otherWhat: stateName, otherLineage: s.Lineage,
				hint: "the journal belongs to another state; move it away to use the state file alone",
			}
		}
		switch {
		case r.Serial <= s.Serial:
			res.Skipped++
			continue
		case r.Serial != s.Serial+1:
			return nil, res, fmt.Errorf("%s line %d: serial %d follows serial %d: records are missing", journalName, lineNo, r.Serial, s.Serial)
		}
		r.apply(s)
		res.Applied++
	}
	return s, res, nil
}

// onlyPadding reports whether b holds nothing but whitespace and NUL bytes.
func onlyPadding(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n', 0:
		default:
			return false
		}
	}
	return true
}

// journalHeader is what Begin needs to know about a journal without
// decoding its objects: its lineage and the serial it ends at.
type journalHeader struct {
	Lineage string
	Serial  uint64 // 0 when the journal holds no complete record
}

// scanJournal reads the lineage and last serial of a journal, with the same
// rules for torn and corrupt lines as replay.
func scanJournal(data []byte, journalName string) (journalHeader, error) {
	var h journalHeader
	lineNo := 0
	for len(data) > 0 {
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		lineNo++
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var r struct {
			Version int    `json:"version"`
			Lineage string `json:"lineage"`
			Serial  uint64 `json:"serial"`
		}
		if err := json.Unmarshal(line, &r); err != nil {
			if onlyPadding(data) {
				break
			}
			return h, fmt.Errorf("%s line %d: %w", journalName, lineNo, err)
		}
		if r.Version > FormatVersion {
			return h, &newerFormatError{what: journalName, version: r.Version}
		}
		if h.Lineage != "" && r.Lineage != h.Lineage {
			return h, fmt.Errorf("%s line %d: lineage %q differs from the journal's %q", journalName, lineNo, r.Lineage, h.Lineage)
		}
		h.Lineage = r.Lineage
		if r.Serial > h.Serial {
			h.Serial = r.Serial
		}
	}
	return h, nil
}

// Replay applies the journal records in data (JSON lines as a Txn writes
// them through Journal.Append) to s and returns the resulting State, for
// backends other than Local; s nil means there is no base state. It
// follows the rules Local's Load does: a torn last line is ignored,
// records already in s are skipped by serial, a gap or another lineage is
// an error. journalName and stateName name the two in errors.
func Replay(s *State, data []byte, journalName, stateName string) (*State, error) {
	s, _, err := replay(s, data, journalName, stateName)
	return s, err
}

// RecordHeader returns the lineage and serial of one journal record (a
// line given to Journal.Append), without decoding its object.
func RecordHeader(rec []byte) (lineage string, serial uint64, err error) {
	var r struct {
		Lineage string `json:"lineage"`
		Serial  uint64 `json:"serial"`
	}
	if err := json.Unmarshal(rec, &r); err != nil {
		return "", 0, fmt.Errorf("decode journal record: %w", err)
	}
	return r.Lineage, r.Serial, nil
}
