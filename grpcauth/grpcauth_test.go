package grpcauth_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/grpcauth"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// errorInfo returns the ErrorInfo reason and RetryInfo delay of err's status.
func details(t *testing.T, err error) (reason string, meta map[string]string, retry time.Duration) {
	t.Helper()
	st, ok := status.FromError(err)
	if !ok {
		t.Fatalf("not a status: %v", err)
	}
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			if d.GetDomain() != grpcauth.Domain {
				t.Errorf("ErrorInfo domain %q", d.GetDomain())
			}
			reason, meta = d.GetReason(), d.GetMetadata()
		case *errdetails.RetryInfo:
			retry = d.GetRetryDelay().AsDuration()
		}
	}
	return reason, meta, retry
}

// TestUnaryCodes calls a real server over bufconn with every kind of
// credential and checks the code, the message (generic for every bad
// credential) and the details.
func TestUnaryCodes(t *testing.T) {
	r := newRig(t, rigOptions{auth: []grpcauth.Option{grpcauth.WithMetadataKey("x-api-key")}})
	ctx := context.Background()
	reader, readTok := r.key(t, scopeRead)
	_, writeTok := r.key(t, scopeWrite)
	_, revokedTok := r.key(t, scopeRead)
	revoked, _ := r.m.Verify(ctx, revokedTok)
	if _, err := r.m.Revoke(ctx, "t1", revoked.ID); err != nil {
		t.Fatal(err)
	}
	is, err := r.m.Create(ctx, apikey.CreateParams{Tenant: "t1", Name: "short", Scopes: []string{scopeRead}, ExpiresAt: r.clock.Now().Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	expiredTok := is.Token.Reveal()
	r.clock.Advance(2 * time.Minute)
	unknownTok := readTok[:len("tst_live_")] + strings.Repeat("A", len(readTok)-len("tst_live_"))

	const invalid = "invalid API key"
	cases := []struct {
		name   string
		md     []string // key, value pairs
		method string   // default UnaryCall
		code   codes.Code
		msg    string
		reason string
	}{
		{name: "valid", md: []string{"authorization", "Bearer " + readTok}, code: codes.OK},
		{name: "scheme case-insensitive", md: []string{"authorization", "bEaReR " + readTok}, code: codes.OK},
		{name: "opt-in metadata key", md: []string{"x-api-key", readTok}, code: codes.OK},
		{name: "none", code: codes.Unauthenticated, msg: "authentication required", reason: "NO_CREDENTIALS"},
		{name: "other scheme", md: []string{"authorization", "Basic dXNlcjpwYXNz"}, code: codes.Unauthenticated, msg: "authentication required", reason: "NO_CREDENTIALS"},
		{name: "empty bearer", md: []string{"authorization", "Bearer "}, code: codes.Unauthenticated, msg: invalid, reason: "INVALID_API_KEY"},
		{name: "two spaces", md: []string{"authorization", "Bearer  " + readTok}, code: codes.Unauthenticated, msg: invalid, reason: "INVALID_API_KEY"},
		{name: "two tokens", md: []string{"authorization", "Bearer " + readTok + " " + readTok}, code: codes.Unauthenticated, msg: invalid, reason: "INVALID_API_KEY"},
		{name: "too long", md: []string{"authorization", "Bearer " + strings.Repeat("a", 257)}, code: codes.Unauthenticated, msg: invalid, reason: "INVALID_API_KEY"},
		{name: "repeated", md: []string{"authorization", "Bearer " + readTok, "authorization", "Bearer " + readTok}, code: codes.Unauthenticated, msg: invalid, reason: "INVALID_API_KEY"},
		{name: "two places", md: []string{"authorization", "Bearer " + readTok, "x-api-key", readTok}, code: codes.Unauthenticated, msg: invalid, reason: "INVALID_API_KEY"},
		{name: "bad checksum", md: []string{"authorization", "Bearer " + readTok[:len(readTok)-1] + "x"}, code: codes.Unauthenticated, msg: invalid, reason: "INVALID_API_KEY"},
		{name: "unknown", md: []string{"authorization", "Bearer " + unknownTok}, code: codes.Unauthenticated, msg: invalid, reason: "INVALID_API_KEY"},
		{name: "revoked", md: []string{"authorization", "Bearer " + revokedTok}, code: codes.Unauthenticated, msg: invalid, reason: "INVALID_API_KEY"},
		{name: "expired", md: []string{"authorization", "Bearer " + expiredTok}, code: codes.Unauthenticated, msg: invalid, reason: "INVALID_API_KEY"},
		{name: "missing scope", md: []string{"authorization", "Bearer " + writeTok}, code: codes.PermissionDenied, msg: "the API key lacks a required scope", reason: "INSUFFICIENT_SCOPE"},
		{name: "unlisted method", md: []string{"authorization", "Bearer " + readTok}, method: testpb.TestService_EmptyCall_FullMethodName,
			code: codes.PermissionDenied, msg: "the method is not open to API keys", reason: "METHOD_NOT_ALLOWED"},
		{name: "unlisted method without key", method: testpb.TestService_EmptyCall_FullMethodName, code: codes.Unauthenticated, msg: "authentication required", reason: "NO_CREDENTIALS"},
		{name: "public method", method: healthpb.Health_Check_FullMethodName, code: codes.OK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := metadata.NewOutgoingContext(ctx, metadata.Pairs(tc.md...))
			var err error
			switch tc.method {
			case "":
				var resp *testpb.SimpleResponse
				resp, err = testpb.NewTestServiceClient(r.conn).UnaryCall(ctx, &testpb.SimpleRequest{})
				if err == nil && resp.GetUsername() != reader.ID {
					t.Errorf("handler saw key %q, want %q", resp.GetUsername(), reader.ID)
				}
			case testpb.TestService_EmptyCall_FullMethodName:
				_, err = testpb.NewTestServiceClient(r.conn).EmptyCall(ctx, &testpb.Empty{})
			case healthpb.Health_Check_FullMethodName:
				_, err = healthpb.NewHealthClient(r.conn).Check(ctx, &healthpb.HealthCheckRequest{})
			}
			if got := status.Code(err); got != tc.code {
				t.Fatalf("code %v (%v), want %v", got, err, tc.code)
			}
			if tc.code == codes.OK {
				return
			}
			if got := status.Convert(err).Message(); got != tc.msg {
				t.Errorf("message %q, want %q", got, tc.msg)
			}
			reason, meta, _ := details(t, err)
			if reason != tc.reason {
				t.Errorf("reason %q, want %q", reason, tc.reason)
			}
			if tc.reason == "INSUFFICIENT_SCOPE" && meta["scopes"] != scopeRead {
				t.Errorf("scopes metadata %q, want %q", meta["scopes"], scopeRead)
			}
		})
	}
}

// TestStoreUnavailable: a store that cannot be read gives Unavailable,
// never a pass and never Unauthenticated.
func TestStoreUnavailable(t *testing.T) {
	up := newRig(t, rigOptions{})
	_, tok := up.key(t, scopeRead)
	r := newRig(t, rigOptions{store: downStore{up.store}})
	_, err := testpb.NewTestServiceClient(r.conn).UnaryCall(bearer(tok), &testpb.SimpleRequest{})
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("got %v, want Unavailable", err)
	}
	if reason, _, _ := details(t, err); reason != "UNAVAILABLE" {
		t.Errorf("reason %q", reason)
	}
	if strings.Contains(status.Convert(err).Message(), "connection refused") {
		t.Error("the store's error reached the client")
	}
}

// TestStreams: server, client and bidirectional streams see the key in
// their context, and are refused without one or without the scope.
func TestStreams(t *testing.T) {
	r := newRig(t, rigOptions{})
	k, rw := r.key(t, scopeRead, scopeWrite)
	_, ro := r.key(t, scopeRead)
	client := testpb.NewTestServiceClient(r.conn)

	serverStream := func(ctx context.Context) (string, error) {
		s, err := client.StreamingOutputCall(ctx, &testpb.StreamingOutputCallRequest{})
		if err != nil {
			return "", err
		}
		var got []string
		for {
			resp, err := s.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return "", err
			}
			got = append(got, string(resp.GetPayload().GetBody()))
		}
		if len(got) != 3 {
			t.Errorf("%d messages, want 3", len(got))
		}
		return got[0], nil
	}
	clientStream := func(ctx context.Context) (string, error) {
		s, err := client.StreamingInputCall(ctx)
		if err != nil {
			return "", err
		}
		for range 3 {
			if err := s.Send(&testpb.StreamingInputCallRequest{Payload: &testpb.Payload{Body: []byte("abc")}}); err != nil && !errors.Is(err, io.EOF) {
				return "", err
			}
		}
		resp, err := s.CloseAndRecv()
		if err != nil {
			return "", err
		}
		if resp.GetAggregatedPayloadSize() != 9 {
			t.Errorf("aggregated %d, want 9", resp.GetAggregatedPayloadSize())
		}
		h, err := s.Header()
		if err != nil {
			return "", err
		}
		return strings.Join(h.Get("key-id"), ""), nil
	}
	bidi := func(ctx context.Context) (string, error) {
		s, err := client.FullDuplexCall(ctx)
		if err != nil {
			return "", err
		}
		for i := range 3 {
			if err := s.Send(&testpb.StreamingOutputCallRequest{Payload: &testpb.Payload{Body: []byte{byte('a' + i)}}}); err != nil && !errors.Is(err, io.EOF) {
				return "", err
			}
			resp, err := s.Recv()
			if err != nil {
				return "", err
			}
			if string(resp.GetPayload().GetBody()) != string(rune('a'+i)) {
				t.Errorf("echo %q", resp.GetPayload().GetBody())
			}
		}
		if err := s.CloseSend(); err != nil {
			return "", err
		}
		if _, err := s.Recv(); !errors.Is(err, io.EOF) {
			return "", err
		}
		h, err := s.Header()
		if err != nil {
			return "", err
		}
		return strings.Join(h.Get("key-id"), ""), nil
	}
	kinds := []struct {
		name string
		call func(context.Context) (string, error)
		need string // a scope the read-only key lacks, if any
	}{
		{"server stream", serverStream, ""},
		{"client stream", clientStream, scopeWrite},
		{"bidi stream", bidi, scopeWrite},
	}
	for _, kind := range kinds {
		t.Run(kind.name, func(t *testing.T) {
			got, err := kind.call(bearer(rw))
			if err != nil || got != k.ID {
				t.Fatalf("valid key: handler saw %q, err %v; want %q", got, err, k.ID)
			}
			if _, err := kind.call(context.Background()); status.Code(err) != codes.Unauthenticated {
				t.Errorf("no key: %v, want Unauthenticated", err)
			}
			if _, err := kind.call(bearer(rw + "x")); status.Code(err) != codes.Unauthenticated {
				t.Errorf("bad key: %v, want Unauthenticated", err)
			}
			_, err = kind.call(bearer(ro))
			if want := codes.OK; kind.need != "" {
				want = codes.PermissionDenied
				if status.Code(err) != want {
					t.Errorf("read-only key: %v, want %v", err, want)
				}
			} else if err != nil {
				t.Errorf("read-only key: %v", err)
			}
		})
	}
}

// TestHealthWatchScopedEmpty: an empty scope list admits any verified key
// on a server stream of the health service, and no key is refused.
func TestHealthWatchScopedEmpty(t *testing.T) {
	r := newRig(t, rigOptions{})
	_, tok := r.key(t) // no scopes at all
	hc := healthpb.NewHealthClient(r.conn)
	ctx, cancel := context.WithTimeout(bearer(tok), 5*time.Second)
	defer cancel()
	w, err := hc.Watch(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := w.Recv()
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("watch: %v %v", resp, err)
	}
	w, err = hc.Watch(context.Background(), &healthpb.HealthCheckRequest{})
	if err == nil {
		_, err = w.Recv()
	}
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("watch without key: %v", err)
	}
}

// TestDefaultScopes: WithDefaultScopes opens unlisted methods to keys with
// those scopes.
func TestDefaultScopes(t *testing.T) {
	r := newRig(t, rigOptions{auth: []grpcauth.Option{grpcauth.WithDefaultScopes(scopeWrite)}})
	_, ro := r.key(t, scopeRead)
	_, wo := r.key(t, scopeWrite)
	c := testpb.NewTestServiceClient(r.conn)
	if _, err := c.EmptyCall(bearer(wo), &testpb.Empty{}); err != nil {
		t.Errorf("default scope held: %v", err)
	}
	if _, err := c.EmptyCall(bearer(ro), &testpb.Empty{}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("default scope missing: %v", err)
	}
}

// TestFailureThrottle: after the allowed failures a peer gets
// ResourceExhausted with RetryInfo, before its credentials are read, even
// with a good key; calls without credentials do not count.
func TestFailureThrottle(t *testing.T) {
	clock := apikey.NewManualClock(time.Now())
	th, err := apikey.NewFailureThrottle(apikey.ThrottleOptions{Failures: 2, Per: time.Minute, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, rigOptions{listenTCP: true, auth: []grpcauth.Option{grpcauth.WithFailureThrottle(th)}})
	_, tok := r.key(t, scopeRead)
	c := testpb.NewTestServiceClient(r.conn)
	for range 5 {
		if _, err := c.UnaryCall(context.Background(), &testpb.SimpleRequest{}); status.Code(err) != codes.Unauthenticated {
			t.Fatalf("no credentials: %v", err)
		}
	}
	for range 2 {
		if _, err := c.UnaryCall(bearer(tok+"x"), &testpb.SimpleRequest{}); status.Code(err) != codes.Unauthenticated {
			t.Fatalf("bad key: %v", err)
		}
	}
	_, err = c.UnaryCall(bearer(tok), &testpb.SimpleRequest{})
	if status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("throttled: %v, want ResourceExhausted", err)
	}
	reason, _, retry := details(t, err)
	if reason != "THROTTLED" || retry < time.Second {
		t.Errorf("reason %q retry %v", reason, retry)
	}
	if st := th.Stats(); st.Failures != 2 || st.Refused != 1 || st.Clients != 1 {
		t.Errorf("throttle stats %+v", st)
	}
	clock.Advance(time.Minute)
	if _, err := c.UnaryCall(bearer(tok), &testpb.SimpleRequest{}); err != nil {
		t.Errorf("after the wait: %v", err)
	}
}

// TestUsageTracker: an authenticated call over loopback TCP records the
// peer's address and the client name on the key.
func TestUsageTracker(t *testing.T) {
	pre := newRig(t, rigOptions{})
	tracker, err := apikey.NewUsageTracker(pre.store)
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, rigOptions{store: pre.store, listenTCP: true, auth: []grpcauth.Option{
		grpcauth.WithUsageTracker(tracker),
		grpcauth.WithClientName(func(md metadata.MD) string { return strings.Join(md.Get("x-client"), "") }),
	}})
	k, tok := r.key(t, scopeRead)
	ctx := metadata.AppendToOutgoingContext(bearer(tok), "x-client", "nightly-sync")
	if _, err := testpb.NewTestServiceClient(r.conn).UnaryCall(ctx, &testpb.SimpleRequest{}); err != nil {
		t.Fatal(err)
	}
	if err := tracker.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, err := r.m.Get(context.Background(), "t1", k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.LastUsedIP != "127.0.0.1" || got.LastUsedClient != "nightly-sync" || got.LastUsedAt.IsZero() {
		t.Errorf("last used %v from %q by %q", got.LastUsedAt, got.LastUsedIP, got.LastUsedClient)
	}
}

// TestNewRefuses: New refuses configurations that cannot be right.
func TestNewRefuses(t *testing.T) {
	r := newRig(t, rigOptions{})
	cases := map[string][]grpcauth.Option{
		"bad method name":     {grpcauth.WithMethodScopes(map[string][]string{"Jobs/List": {scopeRead}})},
		"method without /svc": {grpcauth.WithPublicMethods("/List")},
		"unknown scope":       {grpcauth.WithMethodScopes(map[string][]string{"/a.B/C": {"nope:read"}})},
		"bad default scope":   {grpcauth.WithDefaultScopes("no spaces allowed")},
		"public and scoped":   {grpcauth.WithMethodScopes(map[string][]string{"/a.B/C": {scopeRead}}), grpcauth.WithPublicMethods("/a.B/C")},
		"listed twice":        {grpcauth.WithMethodScopes(map[string][]string{"/a.B/C": {}}), grpcauth.WithMethodScopes(map[string][]string{"/a.B/C": {}})},
		"authorization key":   {grpcauth.WithMetadataKey("authorization")},
		"upper-case key":      {grpcauth.WithMetadataKey("X-Api-Key")},
		"binary key":          {grpcauth.WithMetadataKey("x-key-bin")},
		"nil tracker":         {grpcauth.WithUsageTracker(nil)},
		"nil throttle":        {grpcauth.WithFailureThrottle(nil)},
	}
	for name, opts := range cases {
		if _, err := grpcauth.New(r.m, opts...); !errors.Is(err, apikey.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if _, err := grpcauth.New(nil); !errors.Is(err, apikey.ErrInvalid) {
		t.Errorf("nil manager: %v", err)
	}
}

// TestCheckServer names uncovered and unserved methods.
func TestCheckServer(t *testing.T) {
	r := newRig(t, rigOptions{})
	err := r.auth.CheckServer(r.srv)
	if err == nil {
		t.Fatal("no error for uncovered methods")
	}
	for _, want := range []string{
		testpb.TestService_EmptyCall_FullMethodName + " has no scope requirement",
		healthpb.Health_List_FullMethodName + " has no scope requirement",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), testpb.TestService_UnaryCall_FullMethodName) {
		t.Errorf("%v names a covered method", err)
	}
	typo, err := grpcauth.New(r.m, grpcauth.WithDefaultScopes(), grpcauth.WithMethodScopes(map[string][]string{"/grpc.testing.TestService/UnaryCal": {scopeRead}}))
	if err != nil {
		t.Fatal(err)
	}
	if err := typo.CheckServer(r.srv); err == nil || !strings.Contains(err.Error(), "UnaryCal is configured but not served") {
		t.Errorf("typo: %v", err)
	}
	covered, err := grpcauth.New(r.m, grpcauth.WithDefaultScopes(scopeRead))
	if err != nil {
		t.Fatal(err)
	}
	if err := covered.CheckServer(r.srv); err != nil {
		t.Errorf("default covers all: %v", err)
	}
}

var _ grpc.UnaryServerInterceptor = (*grpcauth.Authenticator)(nil).Unary
var _ grpc.StreamServerInterceptor = (*grpcauth.Authenticator)(nil).Stream

// TestTrustedProxies: x-forwarded-for is believed only from a trusted
// peer (here the loopback listener) and only with WithTrustedProxies.
func TestTrustedProxies(t *testing.T) {
	cases := []struct {
		name    string
		trusted []string
		xff     []string
		want    string
	}{
		{"no trusted proxies: the peer", nil, []string{"203.0.113.7"}, "127.0.0.1"},
		{"trusted peer: the forwarded client", []string{"127.0.0.1"}, []string{"203.0.113.7"}, "203.0.113.7"},
		{"chain: first untrusted from the right", []string{"127.0.0.0/8", "10.0.0.0/8"}, []string{"198.51.100.1, 203.0.113.7, 10.1.2.3"}, "203.0.113.7"},
		{"untrusted peer: header ignored", []string{"10.0.0.0/8"}, []string{"203.0.113.7"}, "127.0.0.1"},
		{"trusted peer, no header", []string{"127.0.0.1"}, nil, "127.0.0.1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pre := newRig(t, rigOptions{})
			tracker, err := apikey.NewUsageTracker(pre.store)
			if err != nil {
				t.Fatal(err)
			}
			opts := []grpcauth.Option{grpcauth.WithUsageTracker(tracker)}
			if tc.trusted != nil {
				opts = append(opts, grpcauth.WithTrustedProxies(tc.trusted...))
			}
			r := newRig(t, rigOptions{store: pre.store, listenTCP: true, auth: opts})
			k, tok := r.key(t, scopeRead)
			ctx := bearer(tok)
			for _, v := range tc.xff {
				ctx = metadata.AppendToOutgoingContext(ctx, "x-forwarded-for", v)
			}
			if _, err := testpb.NewTestServiceClient(r.conn).UnaryCall(ctx, &testpb.SimpleRequest{}); err != nil {
				t.Fatal(err)
			}
			if err := tracker.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			got, err := r.m.Get(context.Background(), "t1", k.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.LastUsedIP != tc.want {
				t.Errorf("client %q, want %q", got.LastUsedIP, tc.want)
			}
		})
	}
	if _, err := grpcauth.New(newRig(t, rigOptions{}).m, grpcauth.WithTrustedProxies("not a cidr")); err == nil {
		t.Error("bad CIDR accepted")
	}
}
