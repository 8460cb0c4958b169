package ad

import (
	"encoding/hex"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDecodeSID(t *testing.T) {
	tests := []struct {
		name, hex, want string
		wantErr         bool
	}{
		{name: "domain user", hex: "010500000000000515000000bf36014300085f9514dbaa894e080000", want: "S-1-5-21-1124153023-2506033152-2309675796-2126"},
		{name: "well-known everyone", hex: "010100000000000100000000", want: "S-1-1-0"},
		{name: "builtin administrators", hex: "01020000000000052000000020020000", want: "S-1-5-32-544"},
		{name: "no sub-authorities", hex: "010000000000000f", want: "S-1-15"},
		{name: "huge authority in hex", hex: "0100ffffffffffff", want: "S-1-0xFFFFFFFFFFFF"},
		{name: "short", hex: "0105", wantErr: true},
		{name: "wrong revision", hex: "020100000000000100000000", wantErr: true},
		{name: "count too big", hex: "010200000000000100000000", wantErr: true},
		{name: "trailing bytes", hex: "01010000000000010000000000", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := hex.DecodeString(tt.hex)
			got, err := DecodeSID(b)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
			if err != nil {
				return
			}
			back, err := EncodeSID(got)
			if err != nil {
				t.Fatalf("EncodeSID(%s): %v", got, err)
			}
			if d := cmp.Diff(tt.hex, hex.EncodeToString(back)); d != "" {
				t.Errorf("round trip (-want +got):\n%s", d)
			}
		})
	}
}

func TestEncodeSID_rejects(t *testing.T) {
	for _, s := range []string{"", "S-1", "X-1-5", "S-2-5-21", "S-1-5-x", "S-1-5-4294967296", "S-1-281474976710656",
		"S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16"} {
		t.Run(s, func(t *testing.T) {
			if _, err := EncodeSID(s); err == nil {
				t.Errorf("EncodeSID(%q) accepted", s)
			}
		})
	}
}

func TestDecodeGUID(t *testing.T) {
	// objectGUID b7a33c14-7aa9-4fed-a130-9ca65ab122ac as samba-tool shows
	// it; on the wire the first three groups are little-endian.
	wire := "143ca3b7a97aed4fa1309ca65ab122ac"
	b, _ := hex.DecodeString(wire)
	got, err := DecodeGUID(b)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff("b7a33c14-7aa9-4fed-a130-9ca65ab122ac", got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	back, err := EncodeGUID(got)
	if err != nil || hex.EncodeToString(back) != wire {
		t.Errorf("EncodeGUID = %x, %v; want %s", back, err, wire)
	}
	for _, bad := range [][]byte{nil, make([]byte, 15), make([]byte, 17)} {
		if _, err := DecodeGUID(bad); err == nil {
			t.Errorf("DecodeGUID(%d bytes) accepted", len(bad))
		}
	}
	for _, bad := range []string{"", "b7a33c14-7aa9-4fed-a130-9ca65ab122a", "b7a33c14x7aa9-4fed-a130-9ca65ab122ac", "g7a33c14-7aa9-4fed-a130-9ca65ab122ac"} {
		if _, err := EncodeGUID(bad); err == nil {
			t.Errorf("EncodeGUID(%q) accepted", bad)
		}
	}
}

func FuzzDecodeSID(f *testing.F) {
	for _, h := range []string{"010500000000000515000000bf36014300085f9514dbaa894e080000", "010100000000000100000000", "0100ffffffffffff"} {
		b, _ := hex.DecodeString(h)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeSID(b)
		if err != nil {
			return
		}
		back, err := EncodeSID(s)
		if err != nil {
			t.Fatalf("EncodeSID(DecodeSID(%x) = %s): %v", b, s, err)
		}
		if string(back) != string(b) {
			t.Fatalf("round trip %x → %s → %x", b, s, back)
		}
	})
}

func FuzzDecodeGUID(f *testing.F) {
	b, _ := hex.DecodeString("143ca3b7a97aed4fa1309ca65ab122ac")
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeGUID(b)
		if err != nil {
			return
		}
		back, err := EncodeGUID(s)
		if err != nil || string(back) != string(b) {
			t.Fatalf("round trip %x → %s → %x, %v", b, s, back, err)
		}
	})
}
