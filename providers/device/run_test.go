package device

import (
	"strconv"
	"testing"

	"github.com/adshift/adshift/hub/api"
	"github.com/adshift/adshift/providers"
)

// TestRunner_reports feeds one job's reports, with repeats (an earlier
// job's snapshot overlapping the changes feed), to the runner alone.
func TestRunner_reports(t *testing.T) {
	var ev events
	r := &runner{emit: ev.emit, byJob: map[string]*tracked{}}
	job := api.Job{ID: "j1", Actions: []api.Action{{Name: "reacl"}, {Name: "cutover"}, {Name: "noop"}}, State: api.JobLeased, Existing: true,
		Reports: []api.Report{
			{ID: "p1", Action: 0, Kind: api.ReportProgress, Done: 1, Total: 3},
			{ID: "p2", Action: 0, Kind: api.ReportProgress, Done: 2, Total: 3},
		}}
	if err := r.queued(t.Context(), providers.DeviceJob{DeviceID: "d1", Hostname: "ws1", Key: "k"}, job, nil); err != nil {
		t.Fatal(err)
	}
	t1 := r.byJob["j1"]
	for _, rep := range []api.Report{
		{ID: "p2", Action: 0, Kind: api.ReportProgress, Done: 2, Total: 3}, // again, from the feed
		{ID: "r1", Action: 0, Kind: api.ReportResult, Status: api.StatusOK, Output: "acl"},
		{ID: "r1", Action: 0, Kind: api.ReportResult, Status: api.StatusOK, Output: "acl"},
		{ID: "p3", Action: 0, Kind: api.ReportProgress, Done: 3, Total: 3}, // after its result
		{ID: "p4", Action: 1, Kind: api.ReportProgress, Done: 1, Total: 2},
		{ID: "p5", Action: 1, Kind: api.ReportProgress, Done: 2, Total: 2},
		{ID: "p6", Action: 9, Kind: api.ReportProgress, Done: 2, Total: 2}, // no such action
	} {
		if err := r.report(t1, rep); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.flushProgress(); err != nil {
		t.Fatal(err)
	}
	for _, rep := range []api.Report{
		{ID: "r2", Action: 1, Kind: api.ReportResult, Status: api.StatusFailed, Output: "no trust"},
		{ID: "r3", Action: 2, Kind: api.ReportResult, Status: api.StatusOK},
	} {
		if err := r.report(t1, rep); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.pending(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ev.all {
		got = append(got, string(e.Kind)+" "+e.ActionName+" "+e.Status+" "+e.JobState+" "+strconv.FormatInt(e.Done, 10)+"/"+strconv.FormatInt(e.Total, 10))
	}
	wantLines(t, "events", got, []string{
		"queued   leased 0/0",
		"progress reacl   2/3",
		"result reacl ok  0/0",
		"progress cutover   2/2",
		"result cutover failed  0/0",
		"done   failed 0/0",
	})
	if r.open != 0 {
		t.Errorf("%d jobs open, want none", r.open)
	}
}
