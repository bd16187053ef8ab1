package proxy

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/sidecard/sidecard/registry"
)

// sseAgent answers message/stream with two events, the second only after
// release is closed.
func sseAgent(t *testing.T, release <-chan struct{}) *upstream {
	return newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusOK)
		f := w.(http.Flusher)
		_, _ = io.WriteString(w, "data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"kind\":\"status-update\",\"status\":{\"state\":\"working\"}}}\n\n")
		f.Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		_, _ = io.WriteString(w, "data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"kind\":\"status-update\",\"final\":true}}\n\n")
		f.Flush()
	})
}

// readEvent reads one Server-Sent Event (up to a blank line).
func readEvent(t *testing.T, br *bufio.Reader) string {
	t.Helper()
	var ev strings.Builder
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("read event: %v (so far %q)", err, ev.String())
		}
		if line == "\n" {
			return ev.String()
		}
		ev.WriteString(line)
	}
}

// TestSSEEventByEvent checks that a message/stream response reaches the
// client event by event: the agent sends its second event only after the
// client has read the first, through the proxy.
func TestSSEEventByEvent(t *testing.T) {
	release := make(chan struct{})
	agent := sseAgent(t, release)
	e := newEnv(t, []*registry.Entry{simpleEntry(t, "streamer", 1, agent.url)}, nil)
	body := `{"jsonrpc":"2.0","id":1,"method":"message/stream","params":{"message":{"role":"user","parts":[{"kind":"text","text":"hi"}],"messageId":"m1"}}}`
	req, err := http.NewRequest("POST", e.base+"/a2a/streamer", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d, headers %v", resp.StatusCode, resp.Header)
	}
	br := bufio.NewReader(resp.Body)
	if ev := readEvent(t, br); !strings.Contains(ev, `"working"`) {
		t.Fatalf("first event = %q", ev)
	}
	close(release) // the agent writes the second event only now
	if ev := readEvent(t, br); !strings.Contains(ev, `"final":true`) {
		t.Fatalf("second event = %q", ev)
	}
	if rest, err := io.ReadAll(br); err != nil || len(rest) != 0 {
		t.Fatalf("after the last event: %q, %v", rest, err)
	}
	eventually(t, "the stream's slot to be released", func() bool {
		a := agentOf(e.p, "streamer")
		return a != nil && a.inflight.Load() == 0
	})
}

// TestCloseInterruptsStreams checks that Close ends an open stream.
func TestCloseInterruptsStreams(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	agent := sseAgent(t, release)
	e := newEnv(t, []*registry.Entry{simpleEntry(t, "streamer", 1, agent.url)}, nil)
	req, err := http.NewRequest("GET", e.base+"/a2a/streamer/v1/tasks/t1:subscribe", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	readEvent(t, br)
	e.p.Close()
	if _, err := io.ReadAll(br); err == nil {
		t.Fatal("the stream ended cleanly; want it cut")
	}
	if r := e.do(t, "GET", "/a2a/streamer/x", "", nil); r.status != 503 || errorCode(t, r.body) != codeUnavailable {
		t.Errorf("after Close: %d %q, want 503", r.status, r.body)
	}
}

// TestLargeBodies checks bodies too large to copy inline, of known and of
// unknown length, arrive whole.
func TestLargeBodies(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB
	agent := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/sized" {
			w.Header().Set("Content-Length", strconv.Itoa(len(payload)))
		}
		for i := 0; i < len(payload); i += 100_000 {
			_, _ = w.Write(payload[i:min(i+100_000, len(payload))])
			w.(http.Flusher).Flush()
		}
	})
	e := newEnv(t, []*registry.Entry{simpleEntry(t, "big", 1, agent.url)}, nil)
	for _, path := range []string{"/sized", "/chunked"} {
		t.Run(path, func(t *testing.T) {
			r := e.do(t, "GET", "/a2a/big"+path, "", nil)
			if r.status != 200 || sha256.Sum256([]byte(r.body)) != sha256.Sum256(payload) {
				t.Errorf("status %d, %d bytes, want 200 and the %d bytes sent", r.status, len(r.body), len(payload))
			}
		})
	}
}

// agentOf returns the proxy's state of agent name, nil when it has none.
func agentOf(p *Proxy, name string) *agent {
	p.agents.mu.RLock()
	defer p.agents.mu.RUnlock()
	return p.agents.agents[name]
}
