package proxy

import (
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sidecard/sidecard/registry"
)

// TestNotAnOpenProxy sends requests that try to reach another host
// through the sidecar and checks that only the registered agent's
// endpoint is ever dialled.
func TestNotAnOpenProxy(t *testing.T) {
	agent := newUpstream(t, nil)
	evil, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer evil.Close()
	var evilConns atomic.Int64
	accepted := make(chan struct{}, 64)
	go func() {
		for {
			c, err := evil.Accept()
			if err != nil {
				return
			}
			evilConns.Add(1)
			accepted <- struct{}{}
			c.Close()
		}
	}()
	ev := evil.Addr().String()
	e := newEnv(t, []*registry.Entry{simpleEntry(t, "x", 1, agent.url+"/rpc")}, nil)
	cases := []struct {
		name    string
		request string
		status  int
		wantURI string // what x's endpoint must see; "" for nothing
	}{
		{name: "host header", request: "GET /a2a/x/p HTTP/1.1\r\nHost: " + ev + "\r\n\r\n", status: 200, wantURI: "/rpc/p"},
		{name: "absolute form elsewhere", request: "GET http://" + ev + "/ HTTP/1.1\r\nHost: " + ev + "\r\n\r\n", status: 404},
		{name: "absolute form under a2a", request: "GET http://" + ev + "/a2a/x/p HTTP/1.1\r\nHost: " + ev + "\r\n\r\n", status: 200, wantURI: "/rpc/p"},
		// Normalised to /secret by the server: the router's 404.
		{name: "encoded dot segments", request: "GET /a2a/x/..%2f..%2fsecret HTTP/1.1\r\nHost: x\r\n\r\n", status: 404},
		{name: "encoded dots", request: "GET /a2a/x/%2e%2e/%2e%2e/secret HTTP/1.1\r\nHost: x\r\n\r\n", status: 404},
		// Normalised into /a2a/: the proxy sees the raw path and refuses it.
		{name: "encoded dot in place", request: "GET /a2a/x/..%2fy/p HTTP/1.1\r\nHost: x\r\n\r\n", status: 400},
		{name: "dot segment in place", request: "GET /a2a/x/a/%2e%2e/p HTTP/1.1\r\nHost: x\r\n\r\n", status: 400},
		{name: "into another name", request: "GET /a2a/x/..%2f" + ev + "/p HTTP/1.1\r\nHost: x\r\n\r\n", status: 400},
		{name: "backslash", request: "GET /a2a/x/..\\..\\secret HTTP/1.1\r\nHost: x\r\n\r\n", status: 400},
		{name: "plain dot segments", request: "GET /a2a/x/../../ HTTP/1.1\r\nHost: x\r\n\r\n", status: 404},
		{name: "address as name", request: "GET /a2a/" + ev + "/p HTTP/1.1\r\nHost: x\r\n\r\n", status: 404},
		{name: "userinfo trick", request: "GET /a2a/x@" + ev + "/p HTTP/1.1\r\nHost: x\r\n\r\n", status: 404},
		{name: "connect", request: "CONNECT " + ev + " HTTP/1.1\r\nHost: " + ev + "\r\n\r\n", status: 404},
		{name: "double slash", request: "GET //" + ev + "/a2a/x/p HTTP/1.1\r\nHost: x\r\n\r\n", status: 404},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(agent.requests())
			status, _ := e.raw(t, c.request)
			if status != c.status {
				t.Errorf("status %d, want %d", status, c.status)
			}
			got := agent.requests()[before:]
			switch {
			case c.wantURI == "" && len(got) > 0:
				t.Errorf("x's endpoint saw %q on a refused request", got[0].URI)
			case c.wantURI != "" && (len(got) != 1 || got[0].URI != c.wantURI):
				t.Errorf("x's endpoint saw %+v, want one request for %q", got, c.wantURI)
			}
		})
	}
	// A sentinel connection: accepts are in order, so once it is counted
	// every earlier connection to evil would have been.
	c, err := net.DialTimeout("tcp", ev, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	<-accepted
	if n := evilConns.Load(); n != 1 {
		t.Errorf("the other host accepted %d connections from the sidecar", n-1)
	}
}
