package ui

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/adshift/adshift/hub/api"
)

// Hub views: what adshift hub prints for people. With -json the commands
// write ui.Document instead.

const timeFormat = "2006-01-02 15:04:05Z07:00"

// when formats a time, "never" when zero.
func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(timeFormat)
}

// HubServing says where a hub listens and what agents and admins need.
func (v *View) HubServing(url, fingerprint, dataDir string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	pal := v.palette()
	fmt.Fprintf(v.Out, "%s on %s\n", pal.bold("adshift hub serving"), url)
	fmt.Fprintf(v.Out, "  CA fingerprint (agents pin it): %s\n", fingerprint)
	fmt.Fprintf(v.Out, "  data directory:                %s (admin token in admin.token)\n", dataDir)
}

// HubTokenCreated shows a new enrollment token, whose secret is shown
// this once.
func (v *View) HubTokenCreated(t api.TokenCreated) {
	v.mu.Lock()
	defer v.mu.Unlock()
	pal := v.palette()
	fmt.Fprintf(v.Out, "Enrollment token %s created (scope %q, %d use(s), expires %s).\n\n", t.ID, t.Scope, t.Uses, when(t.ExpiresAt))
	fmt.Fprintf(v.Out, "  token:          %s\n  ca fingerprint: %s\n\n", t.Secret, t.CAFingerprint)
	fmt.Fprintf(v.Out, "%s the hub keeps only a hash of the token; it cannot be shown again.\n", pal.warn("Note:"))
}

// HubTokens lists enrollment tokens (never their secrets).
func (v *View) HubTokens(ts []api.Token, now time.Time) {
	v.table("ID\tSCOPE\tUSED\tEXPIRES\tSTATE", len(ts), func(row func(...any)) {
		for _, t := range ts {
			state := "valid"
			switch {
			case t.Revoked:
				state = "revoked"
			case !now.Before(t.ExpiresAt):
				state = "expired"
			case t.Used >= t.Uses:
				state = "used up"
			}
			row(t.ID, t.Scope, fmt.Sprintf("%d/%d", t.Used, t.Uses), when(t.ExpiresAt), state)
		}
	})
}

// HubDevices lists enrolled devices.
func (v *View) HubDevices(ds []api.Device) {
	v.table("HOSTNAME\tID\tSTATE\tSCOPE\tOS\tLAST SEEN", len(ds), func(row func(...any)) {
		for _, d := range ds {
			os := ""
			if d.Inventory != nil {
				os = d.Inventory.OS
			}
			row(d.Hostname, d.ID, d.State, d.Scope, os, when(d.LastSeen))
		}
	})
}

// HubAudit lists audit entries.
func (v *View) HubAudit(es []api.AuditEntry) {
	v.table("WHEN\tACTOR\tACTION\tOBJECT\tRESULT\tDETAIL", len(es), func(row func(...any)) {
		for _, e := range es {
			row(when(e.At), e.Actor, e.Action, e.Object, e.Result, e.Detail)
		}
	})
}

// table writes a header and rows aligned in columns, or "(none)".
func (v *View) table(header string, n int, rows func(row func(...any))) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if n == 0 {
		fmt.Fprintln(v.Out, "(none)")
		return
	}
	tw := tabwriter.NewWriter(v.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	rows(func(cols ...any) {
		s := make([]string, len(cols))
		for i, c := range cols {
			s[i] = fmt.Sprint(c)
		}
		fmt.Fprintln(tw, strings.Join(s, "\t"))
	})
	tw.Flush()
}

// HubDevice shows one device: identity, inventory, jobs with each
// action's progress and result.
func (v *View) HubDevice(d api.DeviceDetail) {
	v.mu.Lock()
	defer v.mu.Unlock()
	pal := v.palette()
	bw := bufio.NewWriter(v.Out)
	defer bw.Flush()
	fmt.Fprintf(bw, "# device %s (%s)\n", d.Hostname, d.ID)
	fmt.Fprintf(bw, "  state     = %s\n  scope     = %q\n  enrolled  = %s\n  last seen = %s\n  cert      = serial %s, valid until %s\n",
		d.State, d.Scope, when(d.EnrolledAt), when(d.LastSeen), d.CertSerial, when(d.CertExpires))
	if inv := d.Inventory; inv != nil {
		fmt.Fprintf(bw, "  %s\n", pal.bold("inventory"))
		for _, kv := range [][2]string{
			{"os", strings.Join(strings.Fields(strings.Join([]string{inv.OS, inv.OSVersion, inv.OSBuild, inv.ServicePack}, " ")), " ")},
			{"powershell", inv.PowerShell},
			{"dotnet", releaseText(inv.DotNetRelease)},
			{"domain", inv.Domain},
			{"free disk", bytesText(inv.FreeDiskBytes)},
			{"principals", fmt.Sprint(len(inv.Principals))},
		} {
			if kv[1] != "" && kv[1] != "0" {
				fmt.Fprintf(bw, "    %-10s = %s\n", kv[0], kv[1])
			}
		}
		for _, p := range inv.Reachable {
			fmt.Fprintf(bw, "    reach %s: %t %s\n", p.Target, p.OK, p.Detail)
		}
	}
	if len(d.Jobs) == 0 {
		fmt.Fprintln(bw, "  no jobs")
	}
	for _, j := range d.Jobs {
		fmt.Fprintf(bw, "  %s %s (%s, attempt %d, queued %s)\n", pal.bold("job"), j.ID, j.State, j.Attempt, when(j.CreatedAt))
		for i, a := range j.Actions {
			fmt.Fprintf(bw, "    %d. %-18s %s\n", i+1, a.Name, actionStatus(j, i))
		}
	}
}

// actionStatus sums up an action's reports: its result, else its latest
// progress, else pending.
func actionStatus(j api.Job, action int) string {
	status := "pending"
	for _, r := range j.Reports {
		if r.Action != action {
			continue
		}
		switch r.Kind {
		case api.ReportResult:
			out := strings.TrimSpace(r.Output)
			if len(out) > 60 {
				out = out[:60] + "…"
			}
			return fmt.Sprintf("%s %s %q", r.Status, when(r.At), out)
		case api.ReportProgress:
			status = fmt.Sprintf("running %d/%d", r.Done, r.Total)
		}
	}
	return status
}

// releaseText names a .NET Framework release number's version.
func releaseText(release int) string {
	if release == 0 {
		return ""
	}
	// The documented minimum release keys of each 4.x version.
	versions := []struct {
		min  int
		name string
	}{{533320, "4.8.1"}, {528040, "4.8"}, {461808, "4.7.2"}, {461308, "4.7.1"}, {460798, "4.7"}, {394802, "4.6.2"}, {394254, "4.6.1"}, {393295, "4.6"}, {379893, "4.5.2"}, {378675, "4.5.1"}, {378389, "4.5"}}
	for _, v := range versions {
		if release >= v.min {
			return fmt.Sprintf("%s (release %d)", v.name, release)
		}
	}
	return fmt.Sprintf("release %d", release)
}

// bytesText writes a byte count in GiB or MiB.
func bytesText(n uint64) string {
	switch {
	case n == 0:
		return ""
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// HubDocument writes an adshift hub command's -json answer as one document:
// {"format_version": …, key: v}. (Not yet covered by docs/schema.)
func HubDocument(w io.Writer, key string, v any) error {
	return document(w, map[string]any{"format_version": JSONFormatVersion, key: v})
}
