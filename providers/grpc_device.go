package providers

import (
	"context"
	"errors"
	"io"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	gproto "google.golang.org/protobuf/proto"

	"github.com/adshift/adshift/providers/proto"
)

// The device calls of the transport: both shims of ListDevices and
// RunDevices (DeviceRunner), optional like ProvisionOfflineJoin.

// listBatchBytes is about how large the plugin keeps a ListDevices batch.
const listBatchBytes = 1 << 20

// ListDevices gathers the plugin's batches; a plugin without the call
// gives an error wrapping ErrUnsupported.
func (c *grpcClient) ListDevices(ctx context.Context) ([]DeviceInfo, error) {
	callCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.client.ListDevices(callCtx, &proto.ListDevices_Request{})
	if err != nil {
		return nil, c.optionalCallError(ctx, "ListDevices", err)
	}
	var out []DeviceInfo
	for {
		batch, err := stream.Recv()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, c.optionalCallError(ctx, "ListDevices", err)
		}
		for _, pd := range batch.GetDevices() {
			d, err := deviceFromProto(pd)
			if err != nil {
				return nil, c.protocolError("ListDevices", err)
			}
			out = append(out, d)
		}
	}
}

// RunDevices hands each event to emit as it arrives; an error from emit
// cancels the call and is returned. A plugin without the call gives an
// error wrapping ErrUnsupported.
func (c *grpcClient) RunDevices(ctx context.Context, run DeviceRun, emit func(DeviceEvent) error) error {
	callCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.client.RunDevices(callCtx, deviceRunToProto(run))
	if err != nil {
		return c.optionalCallError(ctx, "RunDevices", err)
	}
	for {
		pe, err := stream.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return c.optionalCallError(ctx, "RunDevices", err)
		}
		e, err := deviceEventFromProto(pe)
		if err != nil {
			return c.protocolError("RunDevices", err)
		}
		if err := emit(e); err != nil {
			return err
		}
	}
}

func (s *grpcServer) ListDevices(_ *proto.ListDevices_Request, stream proto.Provider_ListDevicesServer) error {
	r, ok := s.impl.(DeviceRunner)
	if !ok {
		return status.Error(codes.Unimplemented, "the provider does not list devices")
	}
	ds, err := r.ListDevices(stream.Context())
	if err != nil {
		return toStatus(err)
	}
	batch := &proto.ListDevices_Batch{}
	size := 0
	for _, d := range ds {
		pd := deviceToProto(d)
		batch.Devices = append(batch.Devices, pd)
		if size += gproto.Size(pd); size >= listBatchBytes {
			if err := stream.Send(batch); err != nil {
				return err
			}
			batch, size = &proto.ListDevices_Batch{}, 0
		}
	}
	if len(batch.Devices) > 0 {
		return stream.Send(batch)
	}
	return nil
}

func (s *grpcServer) RunDevices(req *proto.RunDevices_Request, stream proto.Provider_RunDevicesServer) error {
	r, ok := s.impl.(DeviceRunner)
	if !ok {
		return status.Error(codes.Unimplemented, "the provider does not run device jobs")
	}
	run, err := deviceRunFromProto(req)
	if err != nil {
		return status.Error(codes.InvalidArgument, validText(err.Error()))
	}
	var mu sync.Mutex
	returned := false
	emit := func(e DeviceEvent) error {
		mu.Lock()
		defer mu.Unlock()
		if returned {
			return errors.New("emit called after RunDevices returned")
		}
		return stream.Send(deviceEventToProto(e))
	}
	err = r.RunDevices(stream.Context(), run, emit)
	mu.Lock()
	returned = true
	mu.Unlock()
	return toStatus(err)
}
