package labdevice

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOptions(t *testing.T) {
	o := Options{Dir: "d", Count: 3, First: 9}
	if err := o.defaults(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"ws009", "ws010", "ws011"}, o.Names()); diff != "" {
		t.Errorf("names (-want +got)\n%s", diff)
	}
	for _, tt := range []struct {
		o    Options
		want string
	}{
		{Options{Dir: "d", Count: 1, Prefix: "abcdefghijklm"}, "longer than NetBIOS's 15"},
		{Options{Dir: "d", Count: 1, Prefix: "ws_1"}, "prefix"},
		{Options{Dir: "d", Count: 1, Unsupported: 2}, "unsupported"},
		{Options{Count: 1}, "no directory"},
	} {
		if err := tt.o.defaults(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want %q", tt.o, err, tt.want)
		}
	}
}

func TestPassword(t *testing.T) {
	a, err := password()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := password()
	if a == b || len(a) < 20 || strings.ToLower(a) == a || strings.ToUpper(a) == a {
		t.Errorf("passwords %q, %q: want different, long, mixed case", a, b)
	}
}
