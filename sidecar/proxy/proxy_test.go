package proxy

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/sidecard/sidecard/registry"
)

// TestTransports forwards the calls of A2A's JSON-RPC and HTTP+JSON
// transports and checks what the agent receives and what the client gets.
func TestTransports(t *testing.T) {
	agent := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Agent", "echo")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"jsonrpc":"2.0","id":1,"result":{"kind":"task","id":"t1"}}`))
	})
	e := newEnv(t, []*registry.Entry{simpleEntry(t, "echo", 1, agent.url+"/rpc")}, nil)
	send := `{"jsonrpc":"2.0","id":1,"method":"message/send","params":{"message":{"role":"user","parts":[{"kind":"text","text":"hi"}],"messageId":"m1"}}}`
	cases := []struct {
		name, method, path, body, wantURI string
	}{
		{name: "jsonrpc", method: "POST", path: "/a2a/echo", body: send, wantURI: "/rpc"},
		{name: "rest send", method: "POST", path: "/a2a/echo/v1/message:send", body: `{"message":{}}`, wantURI: "/rpc/v1/message:send"},
		{name: "rest get task", method: "GET", path: "/a2a/echo/v1/tasks/t1?historyLength=2", wantURI: "/rpc/v1/tasks/t1?historyLength=2"},
		{name: "rest cancel", method: "POST", path: "/a2a/echo/v1/tasks/t1:cancel", wantURI: "/rpc/v1/tasks/t1:cancel"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(t, c.method, c.path, c.body, map[string]string{"Content-Type": "application/json", "Authorization": "Bearer tok"})
			if r.status != 200 || r.header.Get("X-Agent") != "echo" || !strings.Contains(r.body, `"id":"t1"`) {
				t.Fatalf("reply = %+v", r)
			}
			got := agent.requests()[i]
			if got.Method != c.method || got.URI != c.wantURI || got.Body != c.body {
				t.Errorf("agent saw %s %s %q, want %s %s %q", got.Method, got.URI, got.Body, c.method, c.wantURI, c.body)
			}
			if got.Header.Get("Authorization") != "Bearer tok" || got.Header.Get("Content-Type") != "application/json" {
				t.Errorf("end-to-end headers lost: %v", got.Header)
			}
			if want := strings.TrimPrefix(agent.url, "http://"); got.Host != want {
				t.Errorf("Host = %q, want the endpoint's %q", got.Host, want)
			}
		})
	}
}

// TestTargetPaths checks how the endpoint's path and query combine with
// the request's (the mapping the package comment documents).
func TestTargetPaths(t *testing.T) {
	agent := newUpstream(t, nil)
	cases := []struct {
		name, endpointPath, path, wantURI string
	}{
		{name: "bare name", endpointPath: "/rpc", path: "/a2a/x", wantURI: "/rpc"},
		{name: "trailing slash", endpointPath: "/rpc", path: "/a2a/x/", wantURI: "/rpc/"},
		{name: "sub path", endpointPath: "/rpc", path: "/a2a/x/foo", wantURI: "/rpc/foo"},
		{name: "endpoint slash", endpointPath: "/rpc/", path: "/a2a/x/foo", wantURI: "/rpc/foo"},
		{name: "root endpoint", endpointPath: "", path: "/a2a/x", wantURI: "/"},
		{name: "root endpoint slash", endpointPath: "/", path: "/a2a/x/v1/card", wantURI: "/v1/card"},
		{name: "raw escapes kept", endpointPath: "", path: "/a2a/x/v1/tasks/a%2Fb%20c", wantURI: "/v1/tasks/a%2Fb%20c"},
		{name: "queries joined", endpointPath: "/base?tenant=a", path: "/a2a/x/p?q=1", wantURI: "/base/p?tenant=a&q=1"},
		{name: "endpoint query alone", endpointPath: "/base?tenant=a", path: "/a2a/x", wantURI: "/base?tenant=a"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, []*registry.Entry{simpleEntry(t, "x", 1, agent.url+c.endpointPath)}, nil)
			if r := e.do(t, "GET", c.path, "", nil); r.status != 200 {
				t.Fatalf("reply = %+v", r)
			}
			seen := agent.requests()
			if got := seen[len(seen)-1].URI; got != c.wantURI {
				t.Errorf("agent saw %q, want %q", got, c.wantURI)
			}
		})
	}
}

// TestKeepAlive checks that sequential requests reuse one connection
// and that the open connections gauge counts it.
func TestKeepAlive(t *testing.T) {
	agent := newUpstream(t, nil)
	e := newEnv(t, []*registry.Entry{simpleEntry(t, "x", 1, agent.url)}, nil)
	for range 20 {
		if r := e.do(t, "POST", "/a2a/x", `{"jsonrpc":"2.0"}`, nil); r.status != 200 {
			t.Fatalf("reply = %+v", r)
		}
	}
	if n := agent.conns.Load(); n != 1 {
		t.Errorf("agent saw %d connections for 20 sequential requests, want 1", n)
	}
	if v, ok := metricValue(t, e.reg, "sidecard_proxy_open_connections", map[string]string{"agent": "x"}); !ok || v != 1 {
		t.Errorf("open connections = %v (present %v), want 1", v, ok)
	}
	if v, _ := metricValue(t, e.reg, "sidecard_proxy_requests_total", map[string]string{"agent": "x", "code_class": "2xx"}); v != 20 {
		t.Errorf("requests 2xx = %v, want 20", v)
	}
	if v, _ := metricValue(t, e.reg, "sidecard_proxy_upstream_duration_seconds", map[string]string{"agent": "x"}); v != 20 {
		t.Errorf("upstream duration samples = %v, want 20", v)
	}
}

// TestLocalErrors covers the answers the proxy gives without an agent.
func TestLocalErrors(t *testing.T) {
	agent := newUpstream(t, nil)
	e := newEnv(t, []*registry.Entry{simpleEntry(t, "x", 1, agent.url)}, func(o *Options) { o.MaxBodyBytes = 64 << 10 })
	cases := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{name: "unknown agent", method: "POST", path: "/a2a/nobody/rpc", status: 404, code: codeNotFound},
		{name: "no name", method: "GET", path: "/a2a/", status: 404, code: codeNotFound},
		{name: "card with POST", method: "POST", path: "/a2a/x/.well-known/agent-card.json", status: 405, code: codeMethodNotAllowed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(t, c.method, c.path, c.body, nil)
			if r.status != c.status || errorCode(t, r.body) != c.code {
				t.Errorf("reply = %d %q, want %d %s", r.status, r.body, c.status, c.code)
			}
		})
	}
	// Over max_body_bytes: refused on the headers (a client still writing
	// the body could see the connection close, so none is sent).
	status, body := e.raw(t, "POST /a2a/x HTTP/1.1\r\nHost: x\r\nContent-Length: 65537\r\n\r\n")
	if status != 413 || errorCode(t, body) != codePayloadTooLarge {
		t.Errorf("body over max_body_bytes: %d %q, want 413", status, body)
	}
	if n := agent.hits(); n != 0 {
		t.Errorf("agent got %d requests, want none", n)
	}
	// A body over the server's own 4 KiB default but under max_body_bytes
	// passes: RequestConfig raised the limit for /a2a/.
	if r := e.do(t, "POST", "/a2a/x", strings.Repeat("a", 64<<10), nil); r.status != 200 {
		t.Errorf("64 KiB body: reply = %d %q", r.status, r.body)
	}
	if got := agent.requests(); len(got) != 1 || len(got[0].Body) != 64<<10 {
		t.Errorf("agent did not get the 64 KiB body")
	}
}

// TestHopByHopHeaders checks that per-connection headers are dropped
// both ways and that X-Forwarded-* are set.
func TestHopByHopHeaders(t *testing.T) {
	agent := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "X-Resp-Hop")
		w.Header().Set("X-Resp-Hop", "1")
		w.Header().Set("Keep-Alive", "timeout=5")
		w.Header().Set("Proxy-Authenticate", "Basic")
		w.Header().Set("X-Resp-End", "kept")
		_, _ = w.Write([]byte("ok"))
	})
	e := newEnv(t, []*registry.Entry{simpleEntry(t, "x", 1, agent.url)}, nil)
	r := e.do(t, "GET", "/a2a/x/p", "", map[string]string{
		"Connection": "X-Hop", "X-Hop": "1", "Keep-Alive": "300", "Te": "trailers",
		"Proxy-Authorization": "Basic eA==", "Upgrade": "websocket", "X-End": "kept",
		"X-Forwarded-For": "10.1.1.1", "X-Forwarded-Proto": "https", "Host": "front.example:8080",
	})
	if r.status != 200 {
		t.Fatalf("reply = %+v", r)
	}
	got := agent.requests()[0].Header
	for _, h := range []string{"X-Hop", "Keep-Alive", "Te", "Proxy-Authorization", "Upgrade"} {
		if v := got.Get(h); v != "" {
			t.Errorf("agent got hop-by-hop %s: %q", h, v)
		}
	}
	if c := got.Get("Connection"); c != "" && !strings.EqualFold(c, "keep-alive") {
		t.Errorf("agent got Connection %q", c)
	}
	want := map[string]string{
		"X-End": "kept", "X-Forwarded-For": "10.1.1.1, 127.0.0.1",
		"X-Forwarded-Proto": "http", "X-Forwarded-Host": "front.example:8080",
	}
	for h, v := range want {
		if got.Get(h) != v {
			t.Errorf("agent got %s = %q, want %q", h, got.Get(h), v)
		}
	}
	for _, h := range []string{"X-Resp-Hop", "Keep-Alive", "Proxy-Authenticate"} {
		if v := r.header.Get(h); v != "" {
			t.Errorf("client got hop-by-hop %s: %q", h, v)
		}
	}
	if r.header.Get("X-Resp-End") != "kept" {
		t.Errorf("client lost X-Resp-End: %v", r.header)
	}
	if d := r.header.Values("Date"); len(d) != 1 {
		t.Errorf("client got Date %q, want one", d)
	}
}

// TestBodilessResponses checks HEAD and 204/304 answers pass through.
func TestBodilessResponses(t *testing.T) {
	agent := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
		case "/cached":
			w.Header().Set("Etag", `"1"`)
			w.WriteHeader(http.StatusNotModified)
		default:
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"a":1}`))
		}
	})
	e := newEnv(t, []*registry.Entry{simpleEntry(t, "x", 1, agent.url)}, nil)
	cases := []struct {
		method, path string
		status       int
	}{
		{method: "HEAD", path: "/a2a/x/doc", status: 200},
		{method: "DELETE", path: "/a2a/x/empty", status: 204},
		{method: "GET", path: "/a2a/x/cached", status: 304},
		{method: "GET", path: "/a2a/x/doc", status: 200},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			r := e.do(t, c.method, c.path, "", nil)
			if r.status != c.status {
				t.Errorf("status %d, want %d", r.status, c.status)
			}
			if wantBody := c.method == "GET" && c.status == 200; (r.body != "") != wantBody {
				t.Errorf("body %q", r.body)
			}
		})
	}
}

// TestHTTPSEndpoint reaches an https endpoint with the configured roots,
// and refuses one whose certificate it cannot verify.
func TestHTTPSEndpoint(t *testing.T) {
	agent := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("secure " + r.URL.Path))
	}))
	defer agent.Close()
	entries := []*registry.Entry{simpleEntry(t, "x", 1, agent.URL+"/rpc")}
	roots := x509.NewCertPool()
	roots.AddCert(agent.Certificate())
	trusted := newEnvTLS(t, entries, nil, &tls.Config{RootCAs: roots})
	if r := trusted.do(t, "POST", "/a2a/x/p", "{}", nil); r.status != 200 || r.body != "secure /rpc/p" {
		t.Errorf("trusted: %d %q", r.status, r.body)
	}
	untrusted := newEnv(t, entries, nil)
	if r := untrusted.do(t, "POST", "/a2a/x/p", "{}", nil); r.status != 503 || errorCode(t, r.body) != codeUnavailable {
		t.Errorf("untrusted: %d %q, want 503", r.status, r.body)
	}
}

// TestHandlerBodyLimit checks the handler's own check of max_body_bytes,
// for a server that does not use RequestConfig.
func TestHandlerBodyLimit(t *testing.T) {
	agent := newUpstream(t, nil)
	e := newEnv(t, []*registry.Entry{simpleEntry(t, "x", 1, agent.url)}, func(o *Options) { o.MaxBodyBytes = 8 })
	var ctx fasthttp.RequestCtx
	ctx.Request.Header.SetMethod("POST")
	ctx.Request.SetRequestURI("/a2a/x")
	ctx.Request.SetBodyString("nine byte")
	e.p.Serve(&ctx)
	if ctx.Response.StatusCode() != 413 || errorCode(t, string(ctx.Response.Body())) != codePayloadTooLarge {
		t.Errorf("reply = %d %q, want 413", ctx.Response.StatusCode(), ctx.Response.Body())
	}
	if agent.hits() != 0 {
		t.Error("the agent got the request")
	}
}
