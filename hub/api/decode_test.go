package api

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTruncateOutput(t *testing.T) {
	short := "fine"
	if got := TruncateOutput(short); got != short {
		t.Errorf("TruncateOutput(%q) = %q", short, got)
	}
	for _, long := range []string{strings.Repeat("x", MaxOutputBytes+1), strings.Repeat("é", MaxOutputBytes)} {
		got := TruncateOutput(long)
		r := Report{ID: "r", JobID: "j", LeaseID: "l", Kind: ReportResult, Status: StatusOK, Output: got}
		if err := r.Validate(); err != nil || !utf8.ValidString(got) || !strings.HasSuffix(got, truncatedMark) {
			t.Errorf("truncated output of %d bytes: %d bytes, valid UTF-8 %v, Validate %v", len(long), len(got), utf8.ValidString(got), err)
		}
	}
}
