package controlplane

import (
	"context"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// TestControlPlaneServesEnvoyTypes runs the control plane on the example
// registry and asks its xDS server for Envoy's clusters (CDS, wildcard):
// served with envoy.enabled, refused without.
func TestControlPlaneServesEnvoyTypes(t *testing.T) {
	for _, enabled := range []bool{true, false} {
		t.Run(map[bool]string{true: "enabled", false: "disabled"}[enabled], func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.DataDir = t.TempDir()
			cfg.XDSAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"
			cfg.RegistryDirs = []string{filepath.Join("..", "examples", "registry")}
			cfg.Envoy.Enabled = enabled
			cp, err := New(cfg, Deps{})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			ran := make(chan error, 1)
			go func() { ran <- cp.Run(ctx) }()
			t.Cleanup(func() {
				cancel()
				if err := <-ran; err != nil {
					t.Errorf("Run: %v", err)
				}
			})
			waitReady(t, "http://"+cp.HTTPAddr()+"/readyz")

			conn, err := grpc.NewClient(cp.XDSAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer scancel()
			stream, err := discovery.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(sctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := stream.Send(&discovery.DiscoveryRequest{Node: &core.Node{Id: "envoy-1"},
				TypeUrl: resourcev3.ClusterType}); err != nil {
				t.Fatal(err)
			}
			resp, err := stream.Recv()
			if !enabled {
				if err == nil {
					t.Fatalf("CDS answered with envoy disabled: %d clusters", len(resp.GetResources()))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, r := range resp.GetResources() {
				var c cluster.Cluster
				if err := r.UnmarshalTo(&c); err != nil {
					t.Fatal(err)
				}
				names = append(names, c.GetName())
			}
			if !slices.Contains(names, "agent.currency-converter") {
				t.Fatalf("clusters %v, want agent.currency-converter among them", names)
			}
		})
	}
}

// waitReady polls url until it answers 200.
func waitReady(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready: %v", url, err)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition
	}
}
