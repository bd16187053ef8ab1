package xds

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"
	grpcxds "google.golang.org/grpc/xds"

	"github.com/sidecard/sidecard/controlplane/envoy"
	"github.com/sidecard/sidecard/controlplane/store"
)

// xdsControlPlane is the real control-plane parts of the xDS path: a bbolt
// store in a temporary directory, the registry and Envoy caches following
// it, and the Server on 127.0.0.1:0.
type xdsControlPlane struct {
	store *store.Bolt
	envoy *EnvoyCache
	addr  string // of the xDS server
}

// startControlPlane starts the parts until the test ends.
func startControlPlane(t *testing.T, opts EnvoyCacheOptions) *xdsControlPlane {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "registry.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := NewRegistryCache(st, RegistryCacheOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ec, err := NewEnvoyCache(st, opts)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := NewServer(reg, ServerOptions{Envoy: ec, ShutdownTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error, 3)
	go func() { errs <- reg.Run(ctx) }()
	go func() { errs <- ec.Run(ctx) }()
	go func() { errs <- srv.Serve(ctx, lis) }()
	t.Cleanup(func() {
		cancel()
		for range 3 {
			if err := <-errs; err != nil {
				t.Errorf("control plane: %v", err)
			}
		}
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return &xdsControlPlane{store: st, envoy: ec, addr: lis.Addr().String()}
}

// register puts (creates or replaces) agent name with one http endpoint at
// addr and waits until the Envoy cache has it.
func (cp *xdsControlPlane) register(t *testing.T, name, addr string) {
	t.Helper()
	stored, _, err := cp.store.Put(context.Background(), agentAt(name, addr), store.Precondition{})
	if err != nil {
		t.Fatal(err)
	}
	waitEnvoy(t, cp.envoy, stored.Revision)
}

// deregister deletes agent name and waits until the Envoy cache applied it.
func (cp *xdsControlPlane) deregister(t *testing.T, name string) {
	t.Helper()
	rev, err := cp.store.Delete(context.Background(), name, store.Precondition{})
	if err != nil {
		t.Fatal(err)
	}
	waitEnvoy(t, cp.envoy, rev)
}

// idServer is a gRPC test service answering UnaryCall with its id.
type idServer struct {
	testgrpc.UnimplementedTestServiceServer
	id string
}

func (s *idServer) UnaryCall(context.Context, *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
	return &testgrpc.SimpleResponse{ServerId: s.id}, nil
}

// startIDServer serves an idServer on 127.0.0.1:0 until the test ends and
// returns its address.
func startIDServer(t *testing.T, id string) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	testgrpc.RegisterTestServiceServer(gs, &idServer{id: id})
	served := make(chan error, 1)
	go func() { served <- gs.Serve(lis) }()
	t.Cleanup(func() {
		gs.Stop()
		if err := <-served; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			t.Errorf("serve %s: %v", id, err)
		}
	})
	return lis.Addr().String()
}

// exampleBootstrap returns the example gRPC xDS bootstrap
// (examples/envoy/grpc-bootstrap.json) pointed at xdsAddr.
func exampleBootstrap(t *testing.T, xdsAddr string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", "envoy", "grpc-bootstrap.json"))
	if err != nil {
		t.Fatal(err)
	}
	const exampleAddr = "127.0.0.1:18000"
	if !strings.Contains(string(b), exampleAddr) {
		t.Fatalf("the example gRPC bootstrap does not name %s", exampleAddr)
	}
	return []byte(strings.Replace(string(b), exampleAddr, xdsAddr, 1))
}

// dialXDS returns a client of xds:///<name> resolved by grpc-go's xDS
// resolver with bootstrap.
func dialXDS(t *testing.T, bootstrap []byte, name string) testgrpc.TestServiceClient {
	t.Helper()
	resolver, err := grpcxds.NewXDSResolverWithConfigForTesting(bootstrap)
	if err != nil {
		t.Fatalf("xDS resolver: %v", err)
	}
	conn, err := grpc.NewClient("xds:///"+name, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithResolvers(resolver))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return testgrpc.NewTestServiceClient(conn)
}

// callTimeout bounds each RPC of the tests.
const callTimeout = 2 * time.Second

// waitAnswer calls UnaryCall until the server that answers is want (""
// means: until RPCs fail with Unavailable) and fails the test at waitFor.
func waitAnswer(t *testing.T, client testgrpc.TestServiceClient, want string) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	var last string
	for {
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		resp, err := client.UnaryCall(ctx, &testgrpc.SimpleRequest{})
		cancel()
		switch {
		case want == "" && status.Code(err) == codes.Unavailable:
			return
		case want != "" && err == nil && resp.GetServerId() == want:
			return
		case err != nil:
			last = "error " + err.Error()
		default:
			last = "server " + resp.GetServerId()
		}
		if time.Now().After(deadline) {
			if want == "" {
				want = "RPCs failing with Unavailable"
			}
			t.Fatalf("waiting for %s; last: %s", want, last)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition
	}
}

// TestGRPCClientFollowsRegistry reaches a gRPC server registered as an agent
// through grpc-go's xDS resolver (xds:///echo) fed by the control plane,
// and follows its endpoint changes and deregistration.
func TestGRPCClientFollowsRegistry(t *testing.T) {
	cp := startControlPlane(t, EnvoyCacheOptions{})
	a, b := startIDServer(t, "a"), startIDServer(t, "b")
	cp.register(t, "other", b) // another agent the client never sees
	cp.register(t, "echo", a)
	client := dialXDS(t, exampleBootstrap(t, cp.addr), "echo")
	waitAnswer(t, client, "a")

	cp.register(t, "echo", b)
	waitAnswer(t, client, "b")

	cp.deregister(t, "echo")
	waitAnswer(t, client, "")

	cp.register(t, "echo", a)
	waitAnswer(t, client, "a")
}

// TestGRPCClientSelector gives the gRPC client a node selector: the agent
// disappears for the client when its labels stop matching, and comes back.
func TestGRPCClientSelector(t *testing.T) {
	cp := startControlPlane(t, EnvoyCacheOptions{})
	a := startIDServer(t, "a")
	label := func(team string) {
		t.Helper()
		stored, _, err := cp.store.Put(context.Background(), agentAt("echo", a, "team="+team), store.Precondition{})
		if err != nil {
			t.Fatal(err)
		}
		waitEnvoy(t, cp.envoy, stored.Revision)
	}
	label("x")
	bootstrap := `{"xds_servers": [{"server_uri": "` + cp.addr + `", "channel_creds": [{"type": "insecure"}],
		"server_features": ["xds_v3"]}],
		"node": {"id": "grpc-x", "metadata": {"selector": {"team": "x"}}}}`
	client := dialXDS(t, []byte(bootstrap), "echo")
	waitAnswer(t, client, "a")

	label("y")
	waitAnswer(t, client, "")
	label("x")
	waitAnswer(t, client, "a")
}

// TestServerEnvoyRequests sends Envoy's requests to the Server over gRPC,
// state-of-the-world and delta: LDS and CDS without names are (legacy)
// wildcard, RDS and EDS name their resources.
func TestServerEnvoyRequests(t *testing.T) {
	cp := startControlPlane(t, EnvoyCacheOptions{})
	cp.register(t, "echo", "10.0.0.1:80")
	conn, err := grpc.NewClient(cp.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ads := discovery.NewAggregatedDiscoveryServiceClient(conn)
	n := &core.Node{Id: "envoy-1"}
	requests := []struct {
		typeURL string
		names   []string
		want    []string
	}{
		{resourcev3.ListenerType, nil, []string{envoy.HTTPListenerName}},
		{resourcev3.ClusterType, nil, []string{"agent.echo"}},
		{resourcev3.RouteType, []string{envoy.RouteConfigName}, []string{envoy.RouteConfigName}},
		{resourcev3.EndpointType, []string{"agent.echo"}, []string{"agent.echo"}},
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()

	t.Run("sotw", func(t *testing.T) {
		stream, err := ads.StreamAggregatedResources(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = stream.CloseSend() }()
		for _, r := range requests {
			if err := stream.Send(&discovery.DiscoveryRequest{Node: n, TypeUrl: r.typeURL, ResourceNames: r.names}); err != nil {
				t.Fatal(err)
			}
			resp, err := stream.Recv()
			if err != nil {
				t.Fatal(err)
			}
			if got := names(decodeAll(t, resp.GetResources())); resp.GetTypeUrl() != r.typeURL || !slices.Equal(got, r.want) {
				t.Errorf("%s: got %s %v, want %v", r.typeURL, resp.GetTypeUrl(), got, r.want)
			}
		}
	})
	t.Run("delta", func(t *testing.T) {
		stream, err := ads.DeltaAggregatedResources(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = stream.CloseSend() }()
		for _, r := range requests {
			if err := stream.Send(&discovery.DeltaDiscoveryRequest{
				Node: n, TypeUrl: r.typeURL, ResourceNamesSubscribe: r.names,
			}); err != nil {
				t.Fatal(err)
			}
			resp, err := stream.Recv()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, res := range resp.GetResources() {
				got = append(got, res.GetName())
			}
			if resp.GetTypeUrl() != r.typeURL || !slices.Equal(got, r.want) {
				t.Errorf("%s: got %s %v, want %v", r.typeURL, resp.GetTypeUrl(), got, r.want)
			}
		}
	})
}
