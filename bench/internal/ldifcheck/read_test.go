package ldifcheck_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/adshift/adshift/bench/internal/ldifcheck"
)

func TestRead(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []ldifcheck.Record
		wantErr string
	}{
		{
			name: "comments, folding, base64 and changetype",
			in:   "# header\n#  folded\n  comment\n\ndn: CN=A,DC=x\nchangetype: add\ncn: A\ndescription: one\n  two\ndisplayName:: Wm/Dqw==\n\n\ndn: DC=x\ndc: x\n",
			want: []ldifcheck.Record{
				{DN: "CN=A,DC=x", ChangeType: "add", Attrs: []ldifcheck.Attr{
					{Name: "cn", Value: "A"}, {Name: "description", Value: "one two"},
					{Name: "displayName", Value: "Zoë", Base64: true},
				}},
				{DN: "DC=x", Attrs: []ldifcheck.Attr{{Name: "dc", Value: "x"}}},
			},
		},
		{name: "no dn", in: "cn: A\n", wantErr: `line 1: record starts with "cn", want dn`},
		{name: "bad base64", in: "dn: DC=x\ng:: !!\n", wantErr: "line 2: attribute g: bad base64"},
		{name: "raw UTF-8", in: "dn: DC=x\ncn: é\n", wantErr: "line 2: attribute cn: unsafe byte"},
		{name: "orphan continuation", in: " x\n", wantErr: "line 1: continuation without a line"},
		{name: "too wide", in: "dn: DC=x\ncn: " + strings.Repeat("a", 80) + "\n", wantErr: "line 2: 84 bytes, longer than 76"},
		{name: "two dns", in: "dn: DC=x\ndn: DC=y\n", wantErr: "line 2: second dn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []ldifcheck.Record
			err := ldifcheck.Read(strings.NewReader(tt.in), ldifcheck.Options{MaxWidth: 76}, func(r ldifcheck.Record) error {
				got = append(got, r)
				return nil
			})
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want prefix %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzRead(f *testing.F) {
	f.Add("dn: DC=x\nchangetype: add\ncn:: QQ==\n desc\n")
	f.Add("# c\n\ndn: DC=x\n\n\n")
	f.Fuzz(func(t *testing.T, in string) {
		_ = ldifcheck.Read(strings.NewReader(in), ldifcheck.Options{MaxWidth: 76}, func(ldifcheck.Record) error { return nil })
	})
}
