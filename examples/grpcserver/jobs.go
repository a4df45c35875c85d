package main

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/grpcserver/jobsapi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// jobs is the service: each tenant (workspace) has its own list of jobs,
// kept in memory. Every handler takes the tenant from the verified key in
// its context, which grpcauth put there.
type jobs struct {
	mu       sync.Mutex
	byTenant map[string][]*structpb.Struct
	watchers map[string]map[chan *structpb.Struct]bool
	n        int
}

var _ jobsapi.Server = (*jobs)(nil)

func newJobs() *jobs {
	return &jobs{byTenant: map[string][]*structpb.Struct{}, watchers: map[string]map[chan *structpb.Struct]bool{}}
}

// tenant returns the verified key's tenant. A call without a key cannot
// reach a handler (grpcauth refuses it), so a missing key is a bug: fail
// closed.
func tenant(ctx context.Context) (*apikey.Key, error) {
	k, ok := apikey.FromContext(ctx)
	if !ok {
		return nil, status.Error(codes.Unauthenticated, "authentication required")
	}
	return k, nil
}

func (j *jobs) List(ctx context.Context, _ *emptypb.Empty) (*structpb.ListValue, error) {
	k, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	out := &structpb.ListValue{}
	for _, job := range j.byTenant[k.Tenant] {
		out.Values = append(out.Values, structpb.NewStructValue(job))
	}
	return out, nil
}

func (j *jobs) Start(ctx context.Context, name *wrapperspb.StringValue) (*structpb.Struct, error) {
	k, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	n := strings.TrimSpace(name.GetValue())
	if n == "" || len(n) > 100 {
		return nil, status.Error(codes.InvalidArgument, "a job needs a name of 1 to 100 characters")
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.n++
	job, err := structpb.NewStruct(map[string]any{
		"id": fmt.Sprintf("job_%d", j.n), "name": n, "state": "running", "started_by": k.ID,
	})
	if err != nil {
		return nil, status.Error(codes.Internal, "building the job")
	}
	j.byTenant[k.Tenant] = append(j.byTenant[k.Tenant], job)
	for ch := range j.watchers[k.Tenant] {
		select {
		case ch <- job:
		default: // a slow watcher misses the event rather than block Start
		}
	}
	return job, nil
}

func (j *jobs) Watch(_ *emptypb.Empty, s grpc.ServerStreamingServer[structpb.Struct]) error {
	k, err := tenant(s.Context())
	if err != nil {
		return err
	}
	ch := make(chan *structpb.Struct, 16)
	j.mu.Lock()
	backlog := append([]*structpb.Struct(nil), j.byTenant[k.Tenant]...)
	if j.watchers[k.Tenant] == nil {
		j.watchers[k.Tenant] = map[chan *structpb.Struct]bool{}
	}
	j.watchers[k.Tenant][ch] = true
	j.mu.Unlock()
	defer func() {
		j.mu.Lock()
		delete(j.watchers[k.Tenant], ch)
		j.mu.Unlock()
	}()
	for _, job := range backlog {
		if err := s.Send(job); err != nil {
			return err
		}
	}
	for {
		select {
		case <-s.Context().Done():
			return nil
		case job := <-ch:
			if err := s.Send(job); err != nil {
				return err
			}
		}
	}
}
