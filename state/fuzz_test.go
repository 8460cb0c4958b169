package state

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// FuzzDecode feeds arbitrary bytes to the state file decoder: it must never
// panic, and whatever it accepts must survive Encode and Decode unchanged.
func FuzzDecode(f *testing.F) {
	golden, err := os.ReadFile(filepath.Join("testdata", "golden.state"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	f.Add([]byte(`{"version": 1, "lineage": "L"}`))
	f.Add([]byte(`{"version": 7, "lineage": "L"}`))
	f.Add([]byte(`{"objects": {"a": {"kind": "user", "sid_history": ["S-1"]}}, "version": 1, "lineage": "L", "devices": {"d": {"actions": [{"name": "reacl"}]}}}`))
	f.Add([]byte(`{"version":1,"lineage":"L\u00e9\"","serial":18446744073709551615,"objects":{"a\\\"b":{"address":"a\\\"b","sid_history":[],"created":false,"updated_at":"2026-01-02T03:04:05.5+01:00","source":{}}},"devices":{"d":{"actions":[{"name":"x","status":"done","at":"2026-01-02T03:04:05Z"}],"target":{"sid":"\ud83d\ude00"}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Whatever the fast parser accepts, encoding/json must read the same.
		if fast, ok := fastDecode(data); ok {
			slow, err := decodeSlow(data)
			if err != nil {
				t.Fatalf("fastDecode accepted what encoding/json refuses: %v", err)
			}
			if diff := cmp.Diff(slow, fast); diff != "" {
				t.Fatalf("fastDecode differs from encoding/json (-json +fast):\n%s", diff)
			}
		}
		s, err := Decode("fuzz", data)
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := Encode(&buf, s); err != nil {
			return // e.g. a time the decoder accepts but cannot re-encode
		}
		again, err := Decode("fuzz", buf.Bytes())
		if err != nil {
			t.Fatalf("Decode of Encode output: %v\n%s", err, buf.Bytes())
		}
		// Encode leaves out empty lists, so [] comes back as nil.
		if diff := cmp.Diff(s, again, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}

// FuzzReplay feeds arbitrary journals to replay over a small snapshot: it
// must never panic, must account for every serial, and must agree with
// scanJournal (which Begin uses) on where the journal ends.
func FuzzReplay(f *testing.F) {
	base := testState(3)
	base.Lineage = "L"
	base.Serial = 2
	f.Add([]byte(`{"version":1,"lineage":"L","serial":3,"op":"put_object","object":{"address":"a","kind":"user"}}` + "\n"))
	f.Add([]byte(`{"version":1,"lineage":"L","serial":1,"op":"delete_object","address":"x"}` + "\n" +
		`{"version":1,"lineage":"L","serial":3,"op":"put_device","device":{"address":"d"}}` + "\n" +
		`{"version":1,"lineage":"L","serial":4,"op":"delete_device","address":"d"}` + "\n" +
		`{"version":1,"lin`))
	f.Add([]byte(`{"version":1,"lineage":"M","serial":3,"op":"put_object","object":{"address":"a"}}` + "\n"))
	f.Add([]byte("\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, res, err := replay(base.Clone(), data, "journal", "state file")
		if _, serr := scanJournal(data, "journal"); err == nil && serr != nil {
			t.Fatalf("replay accepted a journal scanJournal refuses: %v", serr)
		}
		if err != nil {
			return
		}
		if want := base.Serial + uint64(res.Applied); got.Serial != want {
			t.Fatalf("serial %d after %d records over %d", got.Serial, res.Applied, base.Serial)
		}
		if res.Applied > 0 {
			h, _ := scanJournal(data, "journal")
			if h.Serial != got.Serial || h.Lineage != got.Lineage {
				t.Fatalf("scanJournal = %+v, replay ended at %s/%d", h, got.Lineage, got.Serial)
			}
		}
		// The replayed state must be encodable, since Begin folds it.
		if err := got.check(); err != nil {
			t.Fatalf("replayed state fails its checks: %v", err)
		}
	})
}

// FuzzEncode checks the hand-written snapshot writer against encoding/json
// for arbitrary strings and times.
func FuzzEncode(f *testing.F) {
	f.Add("user", "S-1-5-21-1", "a\"b\\c", int64(0), true)
	f.Add("\u2028\x00<>&", "\xff", "日本", int64(1767225600123456789), false)
	f.Fuzz(func(t *testing.T, a, b, c string, nanos int64, created bool) {
		s := New()
		s.Lineage = a
		var ts time.Time
		if nanos != 0 {
			ts = time.Unix(0, nanos).In(time.FixedZone("", int(nanos%50000)))
		}
		s.Objects[a] = &Object{Address: a, Workflow: b, Kind: c, Source: Identity{DN: b, SID: c},
			SIDHistory: []string{a, c}, Created: created, UpdatedAt: ts}
		s.Devices[b] = &Device{Address: b, Name: c, Target: Identity{GUID: a},
			Actions: []DeviceAction{{Name: a, Status: b, Detail: c, At: ts}}}
		var got, want bytes.Buffer
		gotErr := Encode(&got, s)
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		wantErr := enc.Encode(s)
		if (gotErr != nil) != (wantErr != nil) {
			t.Fatalf("Encode err = %v, encoding/json err = %v", gotErr, wantErr)
		}
		if gotErr == nil && got.String() != want.String() {
			t.Fatalf("Encode differs from encoding/json:\n got %q\nwant %q", got.String(), want.String())
		}
	})
}
