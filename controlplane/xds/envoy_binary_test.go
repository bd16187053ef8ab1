package xds

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3" // the Any in the example's xDS cluster
	"google.golang.org/protobuf/encoding/protojson"
	"gopkg.in/yaml.v3"

	"github.com/sidecard/sidecard/controlplane/envoy"
)

// exampleEnvoyPath is the example Envoy bootstrap.
var exampleEnvoyPath = filepath.Join("..", "..", "examples", "envoy", "envoy.yaml")

// loadEnvoyBootstrap parses an Envoy bootstrap YAML file as Envoy does
// (YAML → JSON → proto, unknown fields refused) and validates it.
func loadEnvoyBootstrap(t *testing.T, path string) *bootstrapv3.Bootstrap {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	js, err := json.Marshal(doc)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var b bootstrapv3.Bootstrap
	if err := protojson.Unmarshal(js, &b); err != nil {
		t.Fatalf("%s is not an Envoy bootstrap: %v", path, err)
	}
	if err := b.ValidateAll(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &b
}

// TestEnvoyExampleBootstrap checks the example Envoy bootstrap: ADS over
// gRPC to the control plane at 127.0.0.1:18000, LDS and CDS from ADS.
func TestEnvoyExampleBootstrap(t *testing.T) {
	b := loadEnvoyBootstrap(t, exampleEnvoyPath)
	dyn := b.GetDynamicResources()
	services := dyn.GetAdsConfig().GetGrpcServices()
	if len(services) != 1 || dyn.GetAdsConfig().GetTransportApiVersion() != core.ApiVersion_V3 {
		t.Fatalf("ads_config %v: want one gRPC service, V3", dyn.GetAdsConfig())
	}
	for name, src := range map[string]*core.ConfigSource{"lds_config": dyn.GetLdsConfig(), "cds_config": dyn.GetCdsConfig()} {
		if src.GetAds() == nil || src.GetResourceApiVersion() != core.ApiVersion_V3 {
			t.Errorf("%s %v: want ADS, V3", name, src)
		}
	}
	xdsCluster := services[0].GetEnvoyGrpc().GetClusterName()
	var addr string
	for _, c := range b.GetStaticResources().GetClusters() {
		if c.GetName() != xdsCluster {
			continue
		}
		for _, l := range c.GetLoadAssignment().GetEndpoints() {
			for _, e := range l.GetLbEndpoints() {
				sa := e.GetEndpoint().GetAddress().GetSocketAddress()
				addr = net.JoinHostPort(sa.GetAddress(), strconv.Itoa(int(sa.GetPortValue())))
			}
		}
		if c.GetTypedExtensionProtocolOptions()["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"] == nil {
			t.Errorf("cluster %s does not speak HTTP/2 (gRPC)", xdsCluster)
		}
	}
	if addr != "127.0.0.1:18000" {
		t.Errorf("ADS cluster %q reaches %q, want the control plane's default 127.0.0.1:18000", xdsCluster, addr)
	}
}

// freePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	return lis.Addr().(*net.TCPAddr).Port
}

// lockedBuffer collects a process's output.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestEnvoyRoutesToAgent runs a real Envoy with the example bootstrap,
// pointed at the control plane, and routes HTTP requests to an agent by
// path (/a2a/<name>/...) and by Host (<name>.agents.local).
func TestEnvoyRoutesToAgent(t *testing.T) {
	bin, err := exec.LookPath("envoy")
	if err != nil {
		t.Skip("no envoy binary on the PATH (none is installable on the build machines, BRIEF §11); " +
			"install Envoy to run this test — grpc-go is the xDS client the other tests use")
	}
	listenerPort := freePort(t)
	opts := envoy.DefaultOptions()
	opts.ListenerAddress, opts.ListenerPort = "127.0.0.1", uint32(listenerPort)
	cp := startControlPlane(t, EnvoyCacheOptions{Translation: opts})
	agent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "weather %s", r.URL.Path)
	}))
	defer agent.Close()
	cp.register(t, "weather", agent.Listener.Addr().String())

	raw, err := os.ReadFile(exampleEnvoyPath)
	if err != nil {
		t.Fatal(err)
	}
	_, xdsPort, err := net.SplitHostPort(cp.addr)
	if err != nil {
		t.Fatal(err)
	}
	config := strings.NewReplacer(
		"port_value: 18000", "port_value: "+xdsPort,
		"port_value: 9901", "port_value: "+strconv.Itoa(freePort(t)),
	).Replace(string(raw))
	path := filepath.Join(t.TempDir(), "envoy.yaml")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := &lockedBuffer{}
	cmd := exec.CommandContext(ctx, bin, "-c", path, "--disable-hot-restart", "--log-level", "warn")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start envoy: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait() // killed: its error says so
		if t.Failed() {
			t.Logf("envoy output:\n%s", out.String())
		}
	})

	base := "http://127.0.0.1:" + strconv.Itoa(listenerPort)
	waitHTTP(t, base+"/a2a/weather/forecast", "", "weather /forecast")
	waitHTTP(t, base+"/today", "weather.agents.local", "weather /today")
}

// waitHTTP polls GET url (with Host host unless empty) until it answers 200
// with body want, for up to 30 s (Envoy starts, then fetches its config).
func waitHTTP(t *testing.T, url, host, want string) {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if host != "" {
			req.Host = host
		}
		resp, err := client.Do(req)
		if err != nil {
			last = err.Error()
		} else {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && string(body) == want {
				return
			}
			last = fmt.Sprintf("%d %q", resp.StatusCode, body)
		}
		time.Sleep(100 * time.Millisecond) // polling a condition
	}
	t.Fatalf("GET %s (Host %q): last answer %s, want 200 %q", url, host, last, want)
}
