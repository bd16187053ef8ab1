package proxy

import (
	"net"
	"slices"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/sidecard/sidecard/registry"
)

// benchCall is an A2A message/send call and benchReply the agent's answer.
var (
	benchCall = []byte(`{"jsonrpc":"2.0","id":1,"method":"message/send","params":{"message":{"role":"user",` +
		`"parts":[{"kind":"text","text":"hi"}],"messageId":"9229e770-767c-417b-a0b0-f0741243c589"}}}`)
	benchReply = []byte(`{"jsonrpc":"2.0","id":1,"result":{"kind":"message","role":"agent",` +
		`"messageId":"r1","parts":[{"kind":"text","text":"hello"}]}}`)
)

// benchAgent starts a fasthttp agent on 127.0.0.1:0 answering benchReply
// and returns its address.
func benchAgent(b *testing.B) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("application/json")
		ctx.SetBody(benchReply)
	}}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() { _ = srv.Shutdown() })
	return ln.Addr().String()
}

// benchTargets returns clients of the agent directly and through a
// sidecar (the lookup handler with the proxy mounted, on a real fasthttp
// server), and the path of each.
func benchTargets(b *testing.B) (direct, proxied *fasthttp.HostClient) {
	agent := benchAgent(b)
	e := newEnv(b, []*registry.Entry{simpleEntry(b, "bench", 1, "http://"+agent+"/rpc")}, nil)
	direct = &fasthttp.HostClient{Addr: agent, MaxConns: 64}
	proxied = &fasthttp.HostClient{Addr: e.addr, MaxConns: 64}
	return direct, proxied
}

// call sends benchCall to c at uri and fails b unless it gets a 200.
func call(b *testing.B, c *fasthttp.HostClient, uri string, req *fasthttp.Request, resp *fasthttp.Response) {
	req.Reset()
	req.Header.SetMethod(fasthttp.MethodPost)
	req.SetRequestURI(uri)
	req.Header.SetContentType("application/json")
	req.SetBodyRaw(benchCall)
	if err := c.DoTimeout(req, resp, 5*time.Second); err != nil || resp.StatusCode() != 200 {
		b.Fatalf("POST %s: %v, status %d", uri, err, resp.StatusCode())
	}
}

// BenchmarkProxyOverhead measures the latency of sequential message/send
// calls made directly to the agent and through the sidecar, interleaved
// in the same run, and reports p50/p99 of each and their difference.
// One op is one direct plus one proxied call.
func BenchmarkProxyOverhead(b *testing.B) {
	direct, proxied := benchTargets(b)
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	directURI, proxyURI := "http://"+direct.Addr+"/rpc", "http://"+proxied.Addr+"/a2a/bench"
	for range 200 { // warm both paths' connections
		call(b, direct, directURI, req, resp)
		call(b, proxied, proxyURI, req, resp)
	}
	var d, p []time.Duration
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		call(b, direct, directURI, req, resp)
		t1 := time.Now()
		call(b, proxied, proxyURI, req, resp)
		d, p = append(d, t1.Sub(t0)), append(p, time.Since(t1))
	}
	b.StopTimer()
	dp50, dp99 := percentiles(d)
	pp50, pp99 := percentiles(p)
	us := func(x time.Duration) float64 { return float64(x) / float64(time.Microsecond) }
	b.ReportMetric(us(dp50), "direct-p50-µs")
	b.ReportMetric(us(dp99), "direct-p99-µs")
	b.ReportMetric(us(pp50), "proxy-p50-µs")
	b.ReportMetric(us(pp99), "proxy-p99-µs")
	b.ReportMetric(us(pp50-dp50), "overhead-p50-µs")
	b.ReportMetric(us(pp99-dp99), "overhead-p99-µs")
}

// percentiles returns the 50th and 99th percentiles of ds.
func percentiles(ds []time.Duration) (p50, p99 time.Duration) {
	if len(ds) == 0 {
		return 0, 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2], s[len(s)*99/100]
}

// BenchmarkThroughput compares concurrent message/send calls (8 client
// goroutines) made directly to the agent and through the sidecar; ns/op
// is the inverse of the throughput.
func BenchmarkThroughput(b *testing.B) {
	direct, proxied := benchTargets(b)
	targets := []struct {
		name string
		c    *fasthttp.HostClient
		uri  string
	}{
		{name: "direct", c: direct, uri: "http://" + direct.Addr + "/rpc"},
		{name: "proxied", c: proxied, uri: "http://" + proxied.Addr + "/a2a/bench"},
	}
	for _, tg := range targets {
		b.Run(tg.name, func(b *testing.B) {
			b.SetParallelism(4) // × GOMAXPROCS goroutines
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
				defer fasthttp.ReleaseRequest(req)
				defer fasthttp.ReleaseResponse(resp)
				for pb.Next() {
					call(b, tg.c, tg.uri, req, resp)
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
		})
	}
}
