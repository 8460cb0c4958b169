package providers

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/hashicorp/go-plugin"
	"github.com/zclconf/go-cty/cty"
	"google.golang.org/grpc"

	"github.com/adshift/adshift/providers/proto"
)

// rawServer is a plugin that speaks the wire protocol directly, to send
// what a correct provider behind our server shim never could.
type rawServer struct {
	proto.UnimplementedProviderServer
	schema    *proto.Schema
	diags     []*proto.Diagnostic
	batches   []*proto.Discover_Batch
	applyFunc func(stream proto.Provider_ApplyServer) error
}

func (s *rawServer) GetSchema(context.Context, *proto.GetSchema_Request) (*proto.GetSchema_Response, error) {
	return &proto.GetSchema_Response{Schema: s.schema}, nil
}

func (s *rawServer) Configure(context.Context, *proto.Configure_Request) (*proto.Configure_Response, error) {
	return &proto.Configure_Response{Diagnostics: s.diags}, nil
}

func (s *rawServer) Discover(_ *proto.Discover_Request, stream proto.Provider_DiscoverServer) error {
	for _, b := range s.batches {
		if err := stream.Send(b); err != nil {
			return err
		}
	}
	return nil
}

func (s *rawServer) Apply(stream proto.Provider_ApplyServer) error { return s.applyFunc(stream) }

// rawClient connects the host shim to s.
func rawClient(t *testing.T, s *rawServer) *grpcClient {
	t.Helper()
	conn, server := plugin.TestGRPCConn(t, func(g *grpc.Server) { proto.RegisterProviderServer(g, s) })
	t.Cleanup(func() {
		_ = conn.Close()
		server.Stop()
	})
	return &grpcClient{name: "raw", client: proto.NewProviderClient(conn)}
}

func wantProtocolError(t *testing.T, err error, want string) {
	t.Helper()
	if !errors.Is(err, ErrProtocol) || err.Error() != want {
		t.Errorf("error = %v\nwant     %s", err, want)
	}
}

func TestProtocol_invalidUnaryResponses(t *testing.T) {
	c := rawClient(t, &rawServer{
		schema: &proto.Schema{Name: "raw", Config: &proto.Schema_Block{Attributes: []*proto.Schema_Attribute{{Name: "a", Type: []byte(`["nonsense"]`)}}}},
		diags:  []*proto.Diagnostic{{Severity: 7, Summary: "x"}},
	})
	_, err := c.GetSchema(t.Context())
	if !errors.Is(err, ErrProtocol) {
		t.Errorf("GetSchema error = %v, want a protocol error", err)
	}
	_, err = c.Configure(t.Context(), cty.EmptyObjectVal)
	wantProtocolError(t, err, `provider "raw": Configure: protocol violation: diagnostic 0: invalid severity 7`)
	err = c.Stop(t.Context())
	if err == nil || err.Error() != `provider "raw": Stop is not implemented by the plugin: method Stop not implemented` {
		t.Errorf("Stop error = %v", err)
	}
}

func TestProtocol_invalidBatch(t *testing.T) {
	ok := newBatchEncoder()
	ok.add(&Object{Kind: KindUser, DN: "CN=ok"})
	bad := packedBatch()
	bad.ValueLengths[2] = 5
	c := rawClient(t, &rawServer{batches: []*proto.Discover_Batch{ok.take(), bad}})
	var got []string
	err := c.Discover(t.Context(), Scope{}, func(objs []Object) error {
		for _, o := range objs {
			got = append(got, o.DN)
		}
		return nil
	})
	wantProtocolError(t, err, `provider "raw": Discover: protocol violation: value lengths add up to 9 bytes but 7 are given`)
	if len(got) != 1 || got[0] != "CN=ok" {
		t.Errorf("emitted %v before the bad batch, want [CN=ok]", got)
	}
}

// answer reads changes and answers each with the IDs returned by ids (in
// that order), until the host closes its side.
func answer(ids func(id int64) []int64) func(proto.Provider_ApplyServer) error {
	return func(stream proto.Provider_ApplyServer) error {
		for {
			ch, err := stream.Recv()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			for _, id := range ids(ch.Id) {
				if err := stream.Send(&proto.Apply_Result{Id: id}); err != nil {
					return err
				}
			}
		}
	}
}

func TestProtocol_invalidApply(t *testing.T) {
	tests := []struct {
		name      string
		apply     func(proto.Provider_ApplyServer) error
		keepOpen  bool // send one change and never close the channel
		wantIDs   []int64
		wantError string
	}{
		{
			name:      "second result for a change",
			apply:     answer(func(id int64) []int64 { return []int64{id, id} }),
			wantIDs:   []int64{1},
			wantError: `provider "raw": Apply: protocol violation: second result for change 1`,
		},
		{
			name:      "result for a change never sent",
			apply:     answer(func(id int64) []int64 { return []int64{id, id + 100} }),
			wantIDs:   []int64{1},
			wantError: `provider "raw": Apply: protocol violation: result for unknown change 101`,
		},
		{
			name:      "missing results",
			apply:     answer(func(id int64) []int64 { return nil }),
			wantError: `provider "raw": Apply: protocol violation: no result for 3 changes (IDs 1, 2, 3)`,
		},
		{
			name: "ends before reading every change",
			apply: func(stream proto.Provider_ApplyServer) error {
				ch, err := stream.Recv()
				if err != nil {
					return err
				}
				return stream.Send(&proto.Apply_Result{Id: ch.Id})
			},
			keepOpen:  true,
			wantIDs:   []int64{1},
			wantError: `provider "raw": Apply: protocol violation: plugin ended the call before every change was sent`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := rawClient(t, &rawServer{applyFunc: tt.apply})
			in := make(chan Change)
			go func() {
				n := int64(3)
				if tt.keepOpen {
					n = 1
				} else {
					defer close(in)
				}
				for id := int64(1); id <= n; id++ {
					select {
					case in <- Change{ID: id, Op: OpDelete, Kind: KindUser, DN: "CN=x"}:
					case <-t.Context().Done():
						return
					}
				}
			}()
			var ids []int64
			err := c.Apply(t.Context(), in, func(r Result) error { ids = append(ids, r.ID); return nil })
			wantProtocolError(t, err, tt.wantError)
			if len(ids) != len(tt.wantIDs) || (len(ids) > 0 && ids[0] != tt.wantIDs[0]) {
				t.Errorf("emitted %v, want %v", ids, tt.wantIDs)
			}
		})
	}
}
