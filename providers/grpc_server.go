package providers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/adshift/adshift/providers/proto"
)

// grpcServer is the plugin-side shim: it decodes requests, calls the
// provider and encodes what it returns. Provider errors travel as gRPC
// status messages (code Unknown) that the host names the provider in.
type grpcServer struct {
	proto.UnimplementedProviderServer
	impl Provider
}

var _ proto.ProviderServer = (*grpcServer)(nil)

// toStatus turns a provider's error into a gRPC status error.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return status.FromContextError(err).Err()
	}
	return status.Error(codes.Unknown, validText(err.Error()))
}

func (s *grpcServer) GetSchema(ctx context.Context, _ *proto.GetSchema_Request) (*proto.GetSchema_Response, error) {
	sch, err := s.impl.GetSchema(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	cp := *sch
	// The server knows the process it runs in better than the provider.
	cp.PID = os.Getpid()
	p, err := schemaToProto(&cp)
	if err != nil {
		return nil, status.Error(codes.Internal, validText(err.Error()))
	}
	return &proto.GetSchema_Response{Schema: p}, nil
}

func (s *grpcServer) Configure(ctx context.Context, req *proto.Configure_Request) (*proto.Configure_Response, error) {
	cfg, err := dynamicValueFromProto(req.GetConfig())
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, fmt.Sprintf("config: %v", err))
	}
	diags, err := s.impl.Configure(ctx, cfg)
	if err != nil {
		return nil, toStatus(err)
	}
	pd, err := diagnosticsToProto(diags)
	if err != nil {
		return nil, status.Error(codes.Internal, validText(err.Error()))
	}
	return &proto.Configure_Response{Diagnostics: pd}, nil
}

func (s *grpcServer) Discover(req *proto.Discover_Request, stream proto.Provider_DiscoverServer) error {
	scope, err := scopeFromProto(req.GetScope())
	if err != nil {
		return status.Error(codes.InvalidArgument, validText(err.Error()))
	}
	var mu sync.Mutex
	returned := false
	enc := newBatchEncoder()
	emit := func(objs []Object) error {
		mu.Lock()
		defer mu.Unlock()
		if returned {
			return errors.New("emit called after Discover returned")
		}
		for i := range objs {
			enc.add(&objs[i])
			if enc.size >= batchBytes {
				if err := stream.Send(enc.take()); err != nil {
					return fmt.Errorf("send batch: %w", err)
				}
			}
		}
		if enc.len() > 0 {
			if err := stream.Send(enc.take()); err != nil {
				return fmt.Errorf("send batch: %w", err)
			}
		}
		return nil
	}
	err = s.impl.Discover(stream.Context(), scope, emit)
	mu.Lock()
	returned = true
	mu.Unlock()
	return toStatus(err)
}

// applyRecvState is what the receiving goroutine of Apply found out, read
// by the handler once the provider has returned.
type applyRecvState struct {
	mu  sync.Mutex
	eof bool  // the host closed its side: every change was received
	err error // receiving or decoding failed
}

func (s *grpcServer) Apply(stream proto.Provider_ApplyServer) error {
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()

	in := make(chan Change)
	var st applyRecvState
	go func() {
		defer close(in)
		for {
			req, err := stream.Recv()
			if err == io.EOF {
				st.mu.Lock()
				st.eof = true
				st.mu.Unlock()
				return
			}
			if err != nil {
				st.mu.Lock()
				st.err = err
				st.mu.Unlock()
				return
			}
			ch, err := changeFromProto(req)
			if err != nil {
				st.mu.Lock()
				st.err = status.Error(codes.InvalidArgument, validText(err.Error()))
				st.mu.Unlock()
				cancel()
				return
			}
			select {
			case in <- ch:
			case <-ctx.Done():
				return
			}
		}
	}()

	var mu sync.Mutex
	returned := false
	emit := func(r Result) error {
		mu.Lock()
		defer mu.Unlock()
		if returned {
			return errors.New("emit called after Apply returned")
		}
		if err := stream.Send(resultToProto(r)); err != nil {
			return fmt.Errorf("send result %d: %w", r.ID, err)
		}
		return nil
	}
	err := s.impl.Apply(ctx, in, emit)
	mu.Lock()
	returned = true
	mu.Unlock()

	st.mu.Lock()
	eof, recvErr := st.eof, st.err
	st.mu.Unlock()
	switch {
	case recvErr != nil:
		return recvErr
	case err != nil:
		return toStatus(err)
	case !eof:
		return status.Error(codes.Internal, "provider returned from Apply before reading every change")
	}
	return nil
}

func (s *grpcServer) Stop(ctx context.Context, _ *proto.Stop_Request) (*proto.Stop_Response, error) {
	if err := s.impl.Stop(ctx); err != nil {
		return nil, toStatus(err)
	}
	return &proto.Stop_Response{}, nil
}

func (s *grpcServer) ProvisionOfflineJoin(ctx context.Context, req *proto.ProvisionOfflineJoin_Request) (*proto.ProvisionOfflineJoin_Response, error) {
	p, ok := s.impl.(OfflineJoinProvisioner)
	if !ok {
		return nil, status.Error(codes.Unimplemented, "the provider cannot provision offline domain join blobs")
	}
	r, err := p.ProvisionOfflineJoin(ctx, OfflineJoinRequest{
		Computer: req.GetComputer(), OU: req.GetOu(), Dir: req.GetDir(), FileName: req.GetFileName(), Reuse: req.GetReuse(),
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return &proto.ProvisionOfflineJoin_Response{
		Dn: validText(r.DN), Guid: validText(r.GUID), Sid: validText(r.SID), Created: r.Created, Path: validText(r.Path), Dc: validText(r.DC),
	}, nil
}
