package providers

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// odjFake is the fake provider plus offline join provisioning that records
// its request and answers with result or err.
type odjFake struct {
	*fakeProvider
	got    OfflineJoinRequest
	result OfflineJoinResult
	err    error
}

func (f *odjFake) ProvisionOfflineJoin(_ context.Context, req OfflineJoinRequest) (OfflineJoinResult, error) {
	f.got = req
	return f.result, f.err
}

func TestGRPC_provisionOfflineJoin(t *testing.T) {
	f := &odjFake{fakeProvider: newFakeProvider(), result: OfflineJoinResult{
		DN: "CN=WS1,OU=W,DC=t", GUID: "850d947e-38c9-4da7-b255-913a5ca8ff57", SID: "S-1-5-21-1-2-3-1105",
		Created: true, Path: "/repo/WS1.odj", DC: "dc1.t",
	}}
	p := inProcess(t, f).(OfflineJoinProvisioner)
	req := OfflineJoinRequest{Computer: "WS1", OU: "OU=W,DC=t", Dir: "/repo", FileName: "x.odj", Reuse: true}
	got, err := p.ProvisionOfflineJoin(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(req, f.got); d != "" {
		t.Errorf("request (-sent +received):\n%s", d)
	}
	if d := cmp.Diff(f.result, got); d != "" {
		t.Errorf("result (-sent +received):\n%s", d)
	}

	f.err = errors.New("the account WS1$ already exists")
	_, err = p.ProvisionOfflineJoin(t.Context(), req)
	if want := `provider "fake": ProvisionOfflineJoin: the account WS1$ already exists`; err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}

func TestGRPC_provisionOfflineJoinUnsupported(t *testing.T) {
	p := inProcess(t, newFakeProvider()).(OfflineJoinProvisioner)
	_, err := p.ProvisionOfflineJoin(t.Context(), OfflineJoinRequest{Computer: "WS1"})
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("error = %v, want ErrUnsupported", err)
	}
}
