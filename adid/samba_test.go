package adid

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"os/exec"
	"strconv"
	"testing"

	"github.com/adshift/adshift/internal/sambapy"
)

// TestSamba compares the SID codec with Samba's own (python3-samba's
// security.dom_sid, ndr_pack and ndr_unpack) through testdata/samba_sid.py:
// the table of TestParseSID, SIDs with big identifier authorities, and
// random SIDs. Every SID string we accept, Samba reads to the same binary
// SID; every binary SID we decode, Samba formats to a string we read back
// to the same SID. Samba 4.17 differs from MS-DTYP in ways the test
// allows for and nothing else:
//
//   - It writes an authority of 2^32-1 or more as "0x" and as few
//     lower-case hex digits as needed ("S-1-0x10000000000-21"); MS-DTYP and
//     Windows write an authority below 2^32 in decimal and the others with
//     twelve digits ("S-1-0x010000000000-21"). We read both.
//   - It is more lenient on input (sambaLenient): any revision, leading
//     zeros (an authority "010" is octal to Samba, 8), trailing characters
//     after a number, "0x" without digits (read as S-1-0). We refuse
//     those, as MS-DTYP's grammar does.
func TestSamba(t *testing.T) {
	py := sambapy.Python(t, "samba.dcerpc.security, samba.ndr")
	var sids []SID
	var strs []string
	for _, tc := range sidCases {
		strs = append(strs, tc.in, tc.want)
	}
	rng := rand.New(rand.NewPCG(11, 2026))
	for i := range 400 {
		var auth uint64
		switch i % 4 {
		case 0:
			auth = rng.Uint64N(1 << 48) // mostly >= 2^32
		case 1:
			auth = 1<<32 - 2 + rng.Uint64N(4) // around the boundary
		default:
			auth = rng.Uint64N(20)
		}
		subs := make([]uint32, rng.IntN(MaxSubAuthorities+1))
		for j := range subs {
			subs[j] = rng.Uint32() >> rng.IntN(32)
		}
		s, err := NewSID(auth, subs...)
		if err != nil {
			t.Fatal(err)
		}
		sids = append(sids, s)
		strs = append(strs, s.String())
	}
	var bins []string
	for _, s := range sids {
		b, _ := s.MarshalBinary()
		bins = append(bins, hex.EncodeToString(b))
	}
	for _, tc := range sidCases {
		bins = append(bins, tc.bin)
	}
	var rejected []string
	for _, in := range parseSIDErrors {
		if _, err := ParseSID(in); err != nil {
			rejected = append(rejected, in)
		}
	}
	resp := askSamba(t, py, append(append([]string(nil), strs...), rejected...), bins)

	for i, in := range strs {
		ours, err := ParseSID(in)
		if err != nil {
			t.Errorf("we reject %q: %v", in, err)
			continue
		}
		r := resp.Strings[i]
		if r.Err != "" {
			t.Errorf("Samba rejects %q (%s); we read %s", in, r.Err, ours)
			continue
		}
		if b, _ := ours.MarshalBinary(); r.Hex != hex.EncodeToString(b) {
			t.Errorf("%q: Samba's binary %s, ours %x", in, r.Hex, b)
		}
		checkSambaString(t, in, r.Str, ours)
	}
	for i, h := range bins {
		raw, _ := hex.DecodeString(h)
		var ours SID
		if err := ours.UnmarshalBinary(raw); err != nil {
			t.Errorf("we reject %s: %v", h, err)
			continue
		}
		r := resp.Binary[i]
		if r.Err != "" {
			t.Errorf("Samba rejects %s (%s); we read %s", h, r.Err, ours)
			continue
		}
		checkSambaString(t, h, r.Str, ours)
	}
	for i, in := range rejected {
		r := resp.Strings[len(strs)+i]
		if r.Err == "" && !sambaLenient[in] {
			t.Errorf("we reject %q, Samba reads it as %s (%s); if that is right, add it to sambaLenient", in, r.Str, r.Hex)
		}
		if r.Err != "" && sambaLenient[in] {
			t.Errorf("Samba now rejects %q (%s): remove it from sambaLenient", in, r.Err)
		}
	}
	t.Logf("%d SID strings, %d binary SIDs and %d invalid strings compared with Samba", len(strs), len(bins), len(rejected))
}

// sambaLenient are the strings ParseSID rejects (they are in
// parseSIDErrors) that Samba 4.17 accepts.
var sambaLenient = map[string]bool{
	"S-2-5-21": true, "S-0-5": true, "S-01-5": true, // any revision
	"S-1-05-18": true, "S-1-010-1": true, "S-1-5-018": true, "S-1-00": true, // leading zeros; "010" is octal 8
	"S-1-5 ": true, "S-1-5_0": true, "S-1-1_000": true, "S-1-0x5_0": true, "S-1-5-1_8": true, // trailing characters
	"S-1-5-0x12": true,                                      // a hex sub-authority: Samba reads the 0, then stops
	"S-1-0x":     true, "S-1-0x-5": true, "S-1-0xg-5": true, // "0x" without digits: Samba reads S-1-0
}

// checkSambaString checks Samba's string form got of the SID we read as
// ours from in: the same as ours but for the authority's hex form (see
// TestSamba), and read back by ParseSID to the same SID.
func checkSambaString(t *testing.T, in, got string, ours SID) {
	t.Helper()
	back, err := ParseSID(got)
	if err != nil || back != ours {
		t.Errorf("%s: Samba says %s, which we read as %v (%v); ours is %s", in, got, back, err, ours)
		return
	}
	want := ours.String()
	if a := ours.Authority(); a >= 1<<32-1 {
		s := ours
		s.setAuthority(0)
		rest := s.String()[len("S-1-0"):]
		want = "S-1-0x" + strconv.FormatUint(a, 16) + rest
	}
	if got != want {
		t.Errorf("%s: Samba says %s, want %s (ours %s)", in, got, want, ours)
	}
}

type sambaAnswer struct {
	Str string `json:"str"`
	Hex string `json:"hex"`
	Err string `json:"err"`
}

// askSamba runs testdata/samba_sid.py once for all strings and binary SIDs
// (hex).
func askSamba(t *testing.T, py string, strs, bins []string) (resp struct {
	Strings []sambaAnswer `json:"strings"`
	Binary  []sambaAnswer `json:"binary"`
},
) {
	t.Helper()
	req, err := json.Marshal(map[string][]string{"strings": strs, "binary": bins})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "testdata/samba_sid.py")
	cmd.Stdin = bytes.NewReader(req)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("samba_sid.py: %v\n%s", err, stderr.Bytes())
	}
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("samba_sid.py answer: %v", err)
	}
	if len(resp.Strings) != len(strs) || len(resp.Binary) != len(bins) {
		t.Fatalf("samba_sid.py answered %d strings and %d binary SIDs, asked %d and %d", len(resp.Strings), len(resp.Binary), len(strs), len(bins))
	}
	return resp
}
