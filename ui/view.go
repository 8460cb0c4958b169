package ui

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/fatih/color"
	"github.com/hashicorp/hcl/v2"
)

// JSONFormatVersion is the version of the JSON documents and JSON lines
// adshift writes.
const JSONFormatVersion = "1.0"

// View writes human output to Out and diagnostics to Err.
type View struct {
	Out   io.Writer
	Err   io.Writer
	Color bool
	// Files are the configuration files, for source snippets.
	Files map[string]*hcl.File
	Width int

	mu sync.Mutex
}

// palette returns colour functions that do nothing when colour is off.
type palette struct {
	add, change, del, move, bold, dim, warn func(a ...any) string
}

func (v *View) palette() palette {
	mk := func(attrs ...color.Attribute) func(a ...any) string {
		c := color.New(attrs...)
		if v.Color {
			c.EnableColor()
		} else {
			c.DisableColor()
		}
		return c.SprintFunc()
	}
	return palette{
		add:    mk(color.FgGreen),
		change: mk(color.FgYellow),
		del:    mk(color.FgRed),
		move:   mk(color.FgCyan),
		bold:   mk(color.Bold),
		dim:    mk(color.Faint),
		warn:   mk(color.FgYellow, color.Bold),
	}
}

// Diagnostics prints diagnostics with file:line:col and a source snippet.
func (v *View) Diagnostics(diags hcl.Diagnostics) {
	if len(diags) == 0 {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	width := v.Width
	if width <= 0 {
		width = 100
	}
	bw := bufio.NewWriter(v.Err)
	var buf bytes.Buffer
	wr := hcl.NewDiagnosticTextWriter(&buf, v.Files, uint(width), v.Color)
	for _, d := range diags {
		buf.Reset()
		_ = wr.WriteDiagnostic(d)
		out := buf.String()
		if d.Subject != nil {
			// Name the position the way editors and CI annotations read
			// it, file:line:col, where hcl writes "file line N".
			s := d.Subject
			from := fmt.Sprintf("on %s line %d", s.Filename, s.Start.Line)
			to := fmt.Sprintf("on %s:%d:%d", s.Filename, s.Start.Line, s.Start.Column)
			out = strings.Replace(out, from, to, 1)
		}
		bw.WriteString(out)
	}
	bw.Flush()
}
