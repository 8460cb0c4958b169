package ui

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vbauerster/mpb/v8"

	"github.com/adshift/adshift/planner/plans"
)

func TestBars(t *testing.T) {
	c := func(id int64, env, addr string) *plans.Change {
		return &plans.Change{ID: id, Environment: env, Address: addr, Action: plans.Create}
	}
	p := &plans.Plan{Changes: []*plans.Change{c(1, "target", "a"), c(2, "target", "b"), c(3, "target", "c"), c(4, "other", "d")}}
	var out bytes.Buffer
	v := &View{Out: &out, Err: &out}
	refresh := make(chan any)
	b := NewBars(v, &out, p, mpb.WithManualRefresh(refresh))
	b.Recorded(2)
	b.Applied(p.Changes[0], nil, time.Millisecond)
	b.Applied(p.Changes[1], errors.New("insufficient access"), time.Millisecond)
	b.Skipped(p.Changes[2], p.Changes[1])
	b.Close() // "other" never finished: stopped where it got to
	s := out.String()
	for _, want := range []string{
		"Recorded 2 matches in state",
		"b: failed: insufficient access",
		"c: skipped, because b failed",
		"environment.target 3/3",
		"· 1 failed",
		"environment.other  0/1",
		"stopped",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("the bars lack %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "a: ") {
		t.Errorf("a change that went well has a line of its own:\n%s", s)
	}
}
