package agent

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"sync"

	"github.com/adshift/adshift/hub/api"
)

// Journal is the agent's local record of finished actions: each result is
// written (and fsynced) before it is sent, and its acknowledgement after.
// A restarted agent reads it to skip finished actions and resend what the
// hub has not acknowledged. It is safe for concurrent use.
type Journal struct {
	mu      sync.Mutex
	f       *os.File
	results map[string]map[int]api.Report // job → action → result
	acked   map[string]bool               // report IDs
}

// journalEntry is one line: a result, or the acknowledgement of one.
type journalEntry struct {
	Result *api.Report `json:"result,omitempty"`
	Ack    string      `json:"ack,omitempty"`
}

// OpenJournal opens (creating) the journal at path and replays it. A
// torn last line, from a crash mid-write, is ignored.
func OpenJournal(path string) (*Journal, error) {
	j := &Journal{results: map[string]map[int]api.Report{}, acked: map[string]bool{}}
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 4*api.MaxBodyBytes)
	for sc.Scan() {
		var e journalEntry
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			continue
		}
		j.apply(e)
	}
	if j.f, err = os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600); err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	return j, nil
}

func (j *Journal) apply(e journalEntry) {
	if r := e.Result; r != nil {
		if j.results[r.JobID] == nil {
			j.results[r.JobID] = map[int]api.Report{}
		}
		j.results[r.JobID][r.Action] = *r
	}
	if e.Ack != "" {
		j.acked[e.Ack] = true
	}
}

// write appends one entry, synced to disk when sync is set.
func (j *Journal) write(e journalEntry, sync bool) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, err := j.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	if sync {
		if err := j.f.Sync(); err != nil {
			return fmt.Errorf("sync journal: %w", err)
		}
	}
	j.apply(e)
	return nil
}

// Record keeps a finished action's result, on disk before it returns.
func (j *Journal) Record(r api.Report) error { return j.write(journalEntry{Result: &r}, true) }

// Ack records that the hub acknowledged a report. It is not synced: an
// acknowledgement lost in a crash only makes the agent send the result
// again, which the hub acknowledges as a duplicate.
func (j *Journal) Ack(reportID string) error { return j.write(journalEntry{Ack: reportID}, false) }

// Result returns the recorded result of a job's action.
func (j *Journal) Result(job string, action int) (api.Report, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	r, ok := j.results[job][action]
	return r, ok
}

// Acked reports whether the hub acknowledged a report.
func (j *Journal) Acked(reportID string) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.acked[reportID]
}

// Pending lists the results not acknowledged yet, by job and action.
func (j *Journal) Pending() []api.Report {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []api.Report
	for _, byAction := range j.results {
		for _, r := range byAction {
			if !j.acked[r.ID] {
				out = append(out, r)
			}
		}
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].JobID != out[b].JobID {
			return out[a].JobID < out[b].JobID
		}
		return out[a].Action < out[b].Action
	})
	return out
}

// Close closes the journal file.
func (j *Journal) Close() error { return j.f.Close() }
