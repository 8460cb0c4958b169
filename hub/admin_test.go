package hub

import (
	"strings"
	"testing"
	"time"

	"github.com/adshift/adshift/hub/api"
)

// TestServer_waveAPI covers what the device provider uses: a large job
// request (the admin cap, not the agent's), batches, the changes long
// poll and the fleet listing.
func TestServer_waveAPI(t *testing.T) {
	h := startHub(t)
	ctx := t.Context()
	tok := h.token(2, time.Hour)
	agent, enr := h.enroll("ws001", tok.Secret)
	_, enr2 := h.enroll("ws002", tok.Secret)
	if err := h.admin.RevokeDevice(ctx, enr2.DeviceID); err != nil {
		t.Fatal(err)
	}
	head, err := h.admin.ChangesHead(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// A job with a 2 MiB parameter is queued and handed to the agent whole.
	big := strings.Repeat("S-1-5-21-1-2-3-1001=S-1-5-21-4-5-6-1001\n", 2<<20/40)
	res, err := h.admin.QueueJobs(ctx, []api.JobRequest{
		{DeviceID: enr.DeviceID, IdempotencyKey: "k1", Actions: []api.Action{{Name: "reacl", Params: map[string]string{api.ParamSIDMap: big}}}},
		{DeviceID: enr2.DeviceID, IdempotencyKey: "k1", Actions: []api.Action{{Name: "noop"}}},
		{DeviceID: "nope", IdempotencyKey: "k1", Actions: []api.Action{{Name: "noop"}}},
		{DeviceID: enr.DeviceID, IdempotencyKey: "", Actions: []api.Action{{Name: "noop"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, r := range res {
		if r.Error != nil {
			codes = append(codes, r.Error.Code)
		} else {
			codes = append(codes, "job")
		}
	}
	if strings.Join(codes, " ") != "job forbidden not_found bad_request" {
		t.Fatalf("batch results %v", codes)
	}
	job, err := agent.Poll(ctx, time.Second)
	if err != nil || job == nil || job.Actions[0].Params[api.ParamSIDMap] != big {
		t.Fatalf("poll = %v, %v; want the job with its parameter intact", job != nil, err)
	}

	// The changes long poll returns a report as it is recorded.
	type answer struct {
		ch  api.Changes
		err error
	}
	got := make(chan answer, 1)
	go func() {
		ch, err := h.admin.Changes(ctx, head, 10*time.Second, 0)
		got <- answer{ch, err}
	}()
	rep := api.Report{ID: "r1", JobID: job.ID, LeaseID: job.LeaseID, Action: 0, Kind: api.ReportResult, Status: api.StatusOK, Output: "done"}
	if _, err := agent.Report(ctx, rep); err != nil {
		t.Fatal(err)
	}
	a := <-got
	if a.err != nil || len(a.ch.Changes) != 1 || a.ch.Changes[0].ID != "r1" || a.ch.Changes[0].JobState != api.JobSucceeded || a.ch.Cursor == head {
		t.Fatalf("changes = %+v, %v", a.ch, a.err)
	}
	if ch, err := h.admin.Changes(ctx, a.ch.Cursor, 0, 0); err != nil || len(ch.Changes) != 0 || ch.Cursor != a.ch.Cursor {
		t.Errorf("changes at the end = %+v, %v; want none, the cursor kept", ch, err)
	}

	// Asked again, the key answers the job with its report.
	again, err := h.admin.QueueJob(ctx, api.JobRequest{DeviceID: enr.DeviceID, IdempotencyKey: "k1", Actions: []api.Action{{Name: "noop"}}})
	if err != nil || again.ID != job.ID || !again.Existing || len(again.Reports) != 1 {
		t.Errorf("queue again = %+v, %v", again.ID, err)
	}

	// The fleet lists jobs without their parameters (a wave's SID map
	// would come back once per device and job).
	withParams, err := h.admin.QueueJob(ctx, api.JobRequest{DeviceID: enr.DeviceID, IdempotencyKey: "k-params", Actions: []api.Action{{Name: "echo", Params: map[string]string{"message": strings.Repeat("m", 4096)}}}})
	if err != nil {
		t.Fatal(err)
	}
	all, err := h.admin.Fleet(ctx, "", 10, 5)
	if err != nil {
		t.Fatal(err)
	}
	listed := false
	for _, d := range all.Devices {
		for _, j := range d.Jobs {
			for _, a := range j.Actions {
				if a.Params != nil {
					t.Errorf("fleet lists job %s with parameters", j.ID)
				}
			}
			listed = listed || j.ID == withParams.ID
		}
	}
	if !listed {
		t.Errorf("fleet does not list job %s", withParams.ID)
	}
	if j, err := h.admin.Job(ctx, withParams.ID); err != nil || len(j.Actions[0].Params["message"]) != 4096 {
		t.Errorf("the job itself lost its parameters: %v", err)
	}

	page, err := h.admin.Fleet(ctx, "", 1, 2)
	if err != nil || len(page.Devices) != 1 || page.Next == "" {
		t.Fatalf("fleet page 1 = %+v, %v", page, err)
	}
	page2, err := h.admin.Fleet(ctx, page.Next, 1, 2)
	if err != nil || len(page2.Devices) != 1 || page2.Devices[0].ID == page.Devices[0].ID {
		t.Fatalf("fleet page 2 = %+v, %v", page2, err)
	}

	if _, err := h.admin.Changes(ctx, "12", 0, 0); !api.HasCode(err, api.CodeBadRequest) {
		t.Errorf("changes since a malformed cursor: %v, want bad_request", err)
	}

	// The admin cap is the job's; a batch over it is refused.
	huge := strings.Repeat("x", api.MaxJobBodyBytes)
	_, err = h.admin.QueueJobs(ctx, []api.JobRequest{{DeviceID: enr.DeviceID, IdempotencyKey: "k2", Actions: []api.Action{{Name: "noop", Params: map[string]string{"x": huge}}}}})
	if !api.HasCode(err, api.CodeTooLarge) {
		t.Errorf("oversized batch: %v, want too_large", err)
	}
}
