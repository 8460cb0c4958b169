package ldif

import (
	"encoding/hex"
	"testing"
)

func TestIdentity(t *testing.T) {
	sid, _ := hex.DecodeString("010500000000000515000000010000000200000003000000f4010000") // S-1-5-21-1-2-3-500
	big, _ := hex.DecodeString("010101000000000015000000")                                 // S-1-0x010000000000-21
	guid, _ := hex.DecodeString("2c8a1e6f3d4b5e4c9f80112233445566")                        // as ldifde exports it
	tests := []struct{ name, attr, in, want string }{
		{"binary SID", "objectsid", string(sid), "S-1-5-21-1-2-3-500"},
		{"string SID", "objectsid", "S-1-5-21-1-2-3-500", "S-1-5-21-1-2-3-500"},
		{"lower-case sIDHistory", "sidhistory", "s-1-5-21-1-2-3-500", "S-1-5-21-1-2-3-500"},
		{"authority 2^40, binary", "objectsid", string(big), "S-1-0x010000000000-21"},
		{"authority 2^40, decimal", "objectsid", "S-1-1099511627776-21", "S-1-0x010000000000-21"},
		{"binary GUID", "objectguid", string(guid), "6f1e8a2c-4b3d-4c5e-9f80-112233445566"},
		{"GUID in braces", "objectguid", "{6F1E8A2C-4B3D-4C5E-9F80-112233445566}", "6f1e8a2c-4b3d-4c5e-9f80-112233445566"},
		{"other attribute", "cn", "\x01\x02", "\x01\x02"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
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
		})
	}
	for _, bad := range []struct{ attr, in string }{
		{"objectsid", "garbage"}, {"objectsid", "S-2-5-21"}, {"objectsid", string(sid) + "x"}, {"objectsid", "\x02\x00\x00\x00\x00\x00\x00\x05"},
		{"objectguid", "6f1e8a2c4b3d4c5e9f80112233445566"}, {"objectguid", "{6f1e8a2c-4b3d-4c5e-9f80-112233445566"}, {"objectguid", string(guid[:15])},
	} {
		if _, err := DecodeIdentity(bad.attr, bad.in); err == nil {
			t.Errorf("DecodeIdentity(%s, %q) accepted", bad.attr, bad.in)
		}
		if _, err := EncodeIdentity(bad.attr, bad.in); err == nil {
			t.Errorf("EncodeIdentity(%s, %q) accepted", bad.attr, bad.in)
		}
	}
}
