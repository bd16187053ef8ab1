package sidecar

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sidecard/sidecard/registry"
)

// TestProxyMounted runs a sidecar (no control plane reachable) with one
// agent in its replica and checks the /a2a/ routes are wired: a body over
// the lookup server's own 4 KiB limit is forwarded, the card is rewritten,
// and shutting down cuts an open stream instead of waiting for it.
func TestProxyMounted(t *testing.T) {
	streaming := make(chan struct{})
	agent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept") == "text/event-stream" {
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, "data: 1\n\n")
			w.(http.Flusher).Flush()
			close(streaming)
			<-r.Context().Done() // a stream that never ends by itself
			return
		}
		n, _ := io.Copy(io.Discard, r.Body)
		fmt.Fprintf(w, `{"got":%d}`, n)
	}))
	defer agent.Close()
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cp := dead.Addr().String()
	dead.Close()

	cfg := DefaultConfig()
	cfg.Node.ID, cfg.Addr, cfg.DataDir = "n", "127.0.0.1:0", t.TempDir()
	cfg.ControlPlane.Addresses = []string{cp}
	s, err := New(cfg, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	e, err := registry.ParseEntry([]byte(`{"name":"echo","card":{"protocolVersion":"0.3.0","name":"Echo",
		"description":"d","url":"`+agent.URL+`","version":"1","capabilities":{},"defaultInputModes":["text/plain"],
		"defaultOutputModes":["text/plain"],"skills":[{"id":"s","name":"s","description":"d","tags":["t"]}]}}`), "")
	if err != nil {
		t.Fatal(err)
	}
	s.Replica().Replace([]*registry.Entry{e}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- s.Run(ctx) }()
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-ran
	}
	defer stop()
	base := "http://" + s.Addr()
	client := &http.Client{Timeout: 10 * time.Second}

	resp, err := client.Post(base+"/a2a/echo", "application/json", strings.NewReader(strings.Repeat("a", 100<<10)))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != `{"got":102400}` {
		t.Fatalf("POST 100 KiB: %d %s", resp.StatusCode, body)
	}
	resp, err = client.Get(base + "/a2a/echo/.well-known/agent-card.json")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"url":"`+base+`/a2a/echo"`) {
		t.Fatalf("card: %s", body)
	}

	req, _ := http.NewRequest("POST", base+"/a2a/echo", strings.NewReader(`{}`))
	req.Header.Set("Accept", "text/event-stream")
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	if line, err := br.ReadString('\n'); err != nil || line != "data: 1\n" {
		t.Fatalf("first event line %q, %v", line, err)
	}
	<-streaming
	start := time.Now()
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("shutdown took %v with a stream open", d)
	}
	if _, err := io.ReadAll(br); err == nil {
		t.Error("the stream ended cleanly; want it cut by the shutdown")
	}
}
