package lookup

import (
	"encoding/json"
	"testing"

	"github.com/valyala/fasthttp"
)

// fuzzMethods are the methods FuzzRequestPath picks from.
var fuzzMethods = []string{"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"}

// FuzzRequestPath drives Serve with arbitrary paths, query strings,
// methods and If-None-Match values: it must not panic, the status must be
// one of 200, 304, 400, 404, 405, and every body but /metrics' must be
// valid JSON (304 answers have none).
func FuzzRequestPath(f *testing.F) {
	seeds := []struct {
		method byte
		path   string
		query  string
		inm    string
	}{
		{0, "/v1/agents/weather", "", ""},
		{0, "/v1/agents/weather", "", `"3"`},
		{0, "/v1/agents/weather/card", "", "*"},
		{0, "/v1/agents", "skill=forecast&limit=1", ""},
		{0, "/v1/agents", "label=team=forecast&q=%ff%fe&cursor=d2VhdGhlcg", ""},
		{0, "/v1/agents", "limit=-1&limit=x", ""},
		{0, "/v1/agents/%00", "", ""},
		{0, "/v1/agents/../status", "", ""},
		{0, "/v1/agents/a..b", "", ""},
		{2, "/v1/status", "", ""},
		{1, "/healthz", "", ""},
		{0, "/readyz", "", ""},
		{0, "/metrics", "", ""},
		{4, "/a2a/weather/x", "a=b", ""},
		{0, "//v1//agents//weather", "", ""},
		{0, "http://host/v1/agents/weather", "", ""},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.query, s.inm)
	}
	e := newEnv(f, testEntries(f), nil)
	e.stale.Store(3)
	f.Fuzz(func(t *testing.T, m byte, path, query, inm string) {
		ctx := &fasthttp.RequestCtx{}
		ctx.Request.Header.SetMethod(fuzzMethods[int(m)%len(fuzzMethods)])
		uri := path
		if query != "" {
			uri += "?" + query
		}
		ctx.Request.SetRequestURI(uri)
		if inm != "" {
			ctx.Request.Header.Set("If-None-Match", inm)
		}
		e.h.Serve(ctx)
		status := ctx.Response.StatusCode()
		switch status {
		case 200, 304, 400, 404, 405:
		default:
			t.Fatalf("%s %q: status %d", ctx.Method(), uri, status)
		}
		body := ctx.Response.Body()
		switch {
		case status == 304:
			if len(body) != 0 {
				t.Fatalf("304 with a body: %q", body)
			}
		case string(ctx.Path()) == "/metrics" && status == 200:
		case !json.Valid(body):
			t.Fatalf("%s %q: status %d, body not JSON: %q", ctx.Method(), uri, status, body)
		}
	})
}
