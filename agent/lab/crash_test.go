package lab

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/adshift/adshift/hub/api"
	"github.com/google/go-cmp/cmp"
)

// crashChildEnv names the device directory a child process runs reacl
// on for TestReACL_killed.
const crashChildEnv = "ADSHIFT_LAB_REACL_CHILD"

// TestReACL_killed kills a process running reacl (SIGKILL: no deferred
// code, buffers lost) once it has reported progress, then resumes in this
// process: the result equals a clean run, each item is journaled once,
// and rollback restores the original bytes.
func TestReACL_killed(t *testing.T) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		_, err := New(dir).Run(context.Background(), api.Action{Name: api.ActionReACL, Params: reaclParams("add")}, func(done, total int64) {
			fmt.Printf("progress %d %d\n", done, total)
		})
		fmt.Printf("finished %v\n", err) // the parent kills us before this, if all goes to plan
		return
	}
	clean := newDevice(t, 6000)
	mustRun(t, clean, api.ActionReACL, reaclParams("add"))
	want := snapshot(t, clean)

	b := newDevice(t, 6000)
	original := snapshot(t, b)
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestReACL_killed$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+b.dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	killedAt := ""
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "progress ") && !strings.HasPrefix(line, "progress 0 ") {
			cmd.Process.Kill()
			killedAt = line
			break
		}
		if strings.HasPrefix(line, "finished") {
			t.Fatalf("the child finished before it could be killed: %s", line)
		}
	}
	cmd.Wait()
	if killedAt == "" {
		t.Fatalf("the child reported no progress: %v", sc.Err())
	}
	mid := snapshot(t, b)
	if cmp.Equal(mid, original) || cmp.Equal(mid, want) {
		t.Fatalf("killed at %q: the device is all original or all translated; the test did not interrupt a run", killedAt)
	}

	resumeAndCheck(t, b, "add", want, original)
}
