// Package jobsapi is the gRPC API of the grpcserver example: the service
// plangrep.v1.Jobs, whose messages are protobuf well-known types.
//
// In a real service this file is what protoc-gen-go-grpc generates from a
// .proto; it is written by hand here (the same ServiceDesc and handlers,
// much shorter) so that the example needs no protoc step:
//
//	service Jobs {
//	  rpc List(google.protobuf.Empty) returns (google.protobuf.ListValue);      // jobs:read
//	  rpc Start(google.protobuf.StringValue) returns (google.protobuf.Struct);  // jobs:write
//	  rpc Watch(google.protobuf.Empty) returns (stream google.protobuf.Struct); // jobs:read
//	}
//
// A job is a Struct {"id", "name", "state", "started_by"}.
package jobsapi

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Full method names, for grpcauth.WithMethodScopes.
const (
	ListMethod  = "/plangrep.v1.Jobs/List"
	StartMethod = "/plangrep.v1.Jobs/Start"
	WatchMethod = "/plangrep.v1.Jobs/Watch"
)

// Server is the service's implementation.
type Server interface {
	// List returns the caller's jobs.
	List(context.Context, *emptypb.Empty) (*structpb.ListValue, error)
	// Start starts a job with the given name and returns it.
	Start(context.Context, *wrapperspb.StringValue) (*structpb.Struct, error)
	// Watch sends the caller's jobs, then every job started after, until
	// the call ends.
	Watch(*emptypb.Empty, grpc.ServerStreamingServer[structpb.Struct]) error
}

// Register registers srv on s.
func Register(s grpc.ServiceRegistrar, srv Server) { s.RegisterService(&serviceDesc, srv) }

var serviceDesc = grpc.ServiceDesc{
	ServiceName: "plangrep.v1.Jobs",
	HandlerType: (*Server)(nil),
	Methods: []grpc.MethodDesc{
		{MethodName: "List", Handler: unary(ListMethod, Server.List)},
		{MethodName: "Start", Handler: unary(StartMethod, Server.Start)},
	},
	Streams: []grpc.StreamDesc{{
		StreamName:    "Watch",
		ServerStreams: true,
		Handler: func(srv any, stream grpc.ServerStream) error {
			in := new(emptypb.Empty)
			if err := stream.RecvMsg(in); err != nil {
				return err
			}
			return srv.(Server).Watch(in, &grpc.GenericServerStream[emptypb.Empty, structpb.Struct]{ServerStream: stream})
		},
	}},
}

// unary adapts a method of Server to a grpc.MethodDesc handler, running the
// server's unary interceptors.
func unary[Req, Resp any, PReq interface {
	*Req
	any
}](method string, call func(Server, context.Context, PReq) (Resp, error)) grpc.MethodHandler {
	return func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
		in := PReq(new(Req))
		if err := dec(in); err != nil {
			return nil, err
		}
		handler := func(ctx context.Context, req any) (any, error) { return call(srv.(Server), ctx, req.(PReq)) }
		if interceptor == nil {
			return handler(ctx, in)
		}
		return interceptor(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: method}, handler)
	}
}

// Client calls the service.
type Client struct{ cc grpc.ClientConnInterface }

// NewClient returns a client on cc.
func NewClient(cc grpc.ClientConnInterface) *Client { return &Client{cc: cc} }

// List calls List.
func (c *Client) List(ctx context.Context, opts ...grpc.CallOption) (*structpb.ListValue, error) {
	out := new(structpb.ListValue)
	return out, c.cc.Invoke(ctx, ListMethod, &emptypb.Empty{}, out, opts...)
}

// Start calls Start.
func (c *Client) Start(ctx context.Context, name string, opts ...grpc.CallOption) (*structpb.Struct, error) {
	out := new(structpb.Struct)
	return out, c.cc.Invoke(ctx, StartMethod, wrapperspb.String(name), out, opts...)
}

// Watch calls Watch; Recv on the result returns the jobs as they come.
func (c *Client) Watch(ctx context.Context, opts ...grpc.CallOption) (grpc.ServerStreamingClient[structpb.Struct], error) {
	s, err := c.cc.NewStream(ctx, &serviceDesc.Streams[0], WatchMethod, opts...)
	if err != nil {
		return nil, err
	}
	x := &grpc.GenericClientStream[emptypb.Empty, structpb.Struct]{ClientStream: s}
	if err := x.SendMsg(&emptypb.Empty{}); err != nil {
		return nil, err
	}
	if err := x.CloseSend(); err != nil {
		return nil, err
	}
	return x, nil
}
