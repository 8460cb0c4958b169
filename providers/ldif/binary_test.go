package ldif

import (
	"bytes"
	"testing"
)

func TestGUID(t *testing.T) {
	// objectGUID as ldifde shows it in base64 "LIoebz1LXkyfgBEiM0RVZg==".
	wire := []byte{0x2c, 0x8a, 0x1e, 0x6f, 0x3d, 0x4b, 0x5e, 0x4c, 0x9f, 0x80, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66}
	const str = "6f1e8a2c-4b3d-4c5e-9f80-112233445566"
	got, err := DecodeGUID(wire)
	if err != nil || got != str {
		t.Fatalf("DecodeGUID = %q, %v", got, err)
	}
	for _, in := range []string{str, "{6F1E8A2C-4B3D-4C5E-9F80-112233445566}"} {
		b, err := EncodeGUID(in)
		if err != nil || !bytes.Equal(b, wire) {
			t.Errorf("EncodeGUID(%q) = %x, %v", in, b, err)
		}
	}
	for _, bad := range []string{"", "6f1e8a2c4b3d4c5e9f80112233445566", "6f1e8a2c-4b3d-4c5e-9f80-11223344556z", "{6f1e8a2c-4b3d-4c5e-9f80-112233445566"} {
		if _, err := EncodeGUID(bad); err == nil {
			t.Errorf("EncodeGUID(%q) accepted", bad)
		}
	}
	if _, err := DecodeGUID(wire[:15]); err == nil {
		t.Error("15-byte GUID accepted")
	}
}

func TestSID(t *testing.T) {
	tests := []struct {
		str  string
		wire []byte
	}{
		{"S-1-5-21-1111111111-2222222222-3333333333-1105", []byte{1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 0xc7, 0x35, 0x3a, 0x42, 0x8e, 0x6b, 0x74, 0x84, 0x55, 0xa1, 0xae, 0xc6, 0x51, 0x04, 0, 0}},
		{"S-1-5-32-544", []byte{1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 0x02, 0, 0}},
		{"S-1-1-0", []byte{1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0}},
		{"S-1-16-12288", []byte{1, 1, 0, 0, 0, 0, 0, 16, 0, 0x30, 0, 0}},
	}
	for _, tt := range tests {
		got, err := DecodeSID(tt.wire)
		if err != nil || got != tt.str {
			t.Errorf("DecodeSID(%x) = %q, %v; want %q", tt.wire, got, err, tt.str)
		}
		b, err := EncodeSID(tt.str)
		if err != nil || !bytes.Equal(b, tt.wire) {
			t.Errorf("EncodeSID(%q) = %x, %v", tt.str, b, err)
		}
	}
	for _, bad := range []string{"", "S-1", "S-2-5-21", "S-1-5-x", "S-1-5-21-4294967296", "X-1-5"} {
		if _, err := EncodeSID(bad); err == nil {
			t.Errorf("EncodeSID(%q) accepted", bad)
		}
	}
	for _, bad := range [][]byte{nil, {1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0}, {2, 0, 0, 0, 0, 0, 0, 5}, {1, 16}} {
		if _, err := DecodeSID(bad); err == nil {
			t.Errorf("DecodeSID(%x) accepted", bad)
		}
	}
}

func TestIdentity(t *testing.T) {
	sid, _ := EncodeSID("S-1-5-21-1-2-3-500")
	tests := []struct{ attr, in, want string }{
		{"objectsid", string(sid), "S-1-5-21-1-2-3-500"},
		{"objectsid", "S-1-5-21-1-2-3-500", "S-1-5-21-1-2-3-500"},
		{"sidhistory", "s-1-5-21-1-2-3-500", "S-1-5-21-1-2-3-500"},
		{"objectguid", "{6F1E8A2C-4B3D-4C5E-9F80-112233445566}", "6f1e8a2c-4b3d-4c5e-9f80-112233445566"},
		{"cn", "\x01\x02", "\x01\x02"},
	}
	for _, tt := range tests {
		got, err := DecodeIdentity(tt.attr, tt.in)
		if err != nil || got != tt.want {
			t.Errorf("DecodeIdentity(%s, %q) = %q, %v", tt.attr, tt.in, got, err)
		}
		enc, err := EncodeIdentity(tt.attr, tt.in)
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodeIdentity(tt.attr, enc)
		if err != nil || back != tt.want {
			t.Errorf("round trip of %q: %q, %v", tt.in, back, err)
		}
	}
	if _, err := DecodeIdentity("objectsid", "garbage"); err == nil {
		t.Error("garbage SID accepted")
	}
}
