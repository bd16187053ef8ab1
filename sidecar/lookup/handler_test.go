package lookup

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sidecard/sidecard/registry"
)

// routeCase is one request through a real server and what must come back.
type routeCase struct {
	name    string
	setup   func(*env) // optional, before the request
	method  string     // GET when empty
	target  string
	headers map[string]string
	status  int
	// wantHeader lists headers that must have these values; "" means absent.
	wantHeader map[string]string
	// body is the exact expected body, unless empty.
	body string
	// errCode and errField, when errCode is set, are the expected §4 error.
	errCode, errField string
	// contains are substrings the body must hold.
	contains []string
	// noBody requires an empty body (HEAD, 304).
	noBody bool
}

// run sends c's request through cl and checks the response.
func (c routeCase) run(t *testing.T, e *env, cl *client) {
	t.Helper()
	if c.setup != nil {
		c.setup(e)
	}
	method := c.method
	if method == "" {
		method = "GET"
	}
	got := cl.do(t, method, c.target, c.headers)
	if got.status != c.status {
		t.Fatalf("status = %d, want %d; body %q", got.status, c.status, got.body)
	}
	for k, want := range c.wantHeader {
		if v := got.header[k]; v != want {
			t.Errorf("header %s = %q, want %q", k, v, want)
		}
	}
	if c.body != "" && got.body != c.body {
		t.Errorf("body =\n%s\nwant\n%s", got.body, c.body)
	}
	if c.errCode != "" {
		d := errorOf(t, got.body)
		if d.Code != c.errCode || d.Field != c.errField {
			t.Errorf("error = %+v, want code %q field %q", d, c.errCode, c.errField)
		}
		if ct := got.header["Content-Type"]; ct != "application/json" {
			t.Errorf("error Content-Type = %q", ct)
		}
	}
	if c.noBody && got.body != "" {
		t.Errorf("body = %q, want none", got.body)
	}
	for _, s := range c.contains {
		if !strings.Contains(got.body, s) {
			t.Errorf("body does not contain %q: %q", s, got.body)
		}
	}
}

func TestAgentRoutes(t *testing.T) {
	entries := testEntries(t)
	weather := entries[2]
	card := string(weather.Card.JSON()) + "\n"
	json200 := map[string]string{"Content-Type": "application/json", "Etag": `"3"`, "X-Sidecard-Stale-Seconds": ""}
	cases := []routeCase{
		{name: "entry", target: "/v1/agents/weather", status: 200, wantHeader: json200, body: entryBody(t, weather)},
		{name: "entry HEAD has no body", method: "HEAD", target: "/v1/agents/weather", status: 200,
			wantHeader: map[string]string{"Etag": `"3"`}, noBody: true},
		{name: "entry If-None-Match exact", target: "/v1/agents/weather", headers: map[string]string{"If-None-Match": `"3"`},
			status: 304, noBody: true, wantHeader: map[string]string{"Etag": `"3"`}},
		{name: "entry If-None-Match weak", target: "/v1/agents/weather", headers: map[string]string{"If-None-Match": `W/"3"`},
			status: 304, noBody: true, wantHeader: map[string]string{"Etag": `"3"`}},
		{name: "entry If-None-Match list", target: "/v1/agents/weather", headers: map[string]string{"If-None-Match": `"1", "3"`},
			status: 304, noBody: true},
		{name: "entry If-None-Match star", target: "/v1/agents/weather", headers: map[string]string{"If-None-Match": `*`},
			status: 304, noBody: true},
		{name: "entry If-None-Match other revision", target: "/v1/agents/weather",
			headers: map[string]string{"If-None-Match": `"2"`}, status: 200, body: entryBody(t, weather)},
		{name: "entry If-None-Match unquoted", target: "/v1/agents/weather",
			headers: map[string]string{"If-None-Match": `3`}, status: 200, body: entryBody(t, weather)},
		{name: "card", target: "/v1/agents/weather/card", status: 200, wantHeader: json200, body: card},
		{name: "card If-None-Match", target: "/v1/agents/weather/card", headers: map[string]string{"If-None-Match": `"3"`},
			status: 304, noBody: true, wantHeader: map[string]string{"Etag": `"3"`}},
		{name: "unknown agent", target: "/v1/agents/nobody", status: 404, errCode: codeNotFound,
			wantHeader: map[string]string{"Etag": ""}},
		{name: "unknown agent card", target: "/v1/agents/nobody/card", status: 404, errCode: codeNotFound},
		{name: "agent named card", target: "/v1/agents/card", status: 404, errCode: codeNotFound},
		{name: "uppercase name", target: "/v1/agents/Weather", status: 400, errCode: codeInvalidArgument, errField: "name"},
		{name: "name with underscore", target: "/v1/agents/we_ather/card", status: 400, errCode: codeInvalidArgument, errField: "name"},
		{name: "name too long", target: "/v1/agents/" + strings.Repeat("a", 254), status: 400,
			errCode: codeInvalidArgument, errField: "name"},
		{name: "empty name", target: "/v1/agents/", status: 400, errCode: codeInvalidArgument, errField: "name"},
		{name: "percent-encoded name", target: "/v1/agents/%77eather", status: 200, body: entryBody(t, weather)},
		{name: "sub-path", target: "/v1/agents/weather/extra", status: 404, errCode: codeNotFound},
		{name: "card sub-path", target: "/v1/agents/weather/card/x", status: 404, errCode: codeNotFound},
		{name: "POST entry", method: "POST", target: "/v1/agents/weather", status: 405,
			errCode: codeMethodNotAllowed, wantHeader: map[string]string{"Allow": "GET, HEAD"}},
		{name: "DELETE card", method: "DELETE", target: "/v1/agents/weather/card", status: 405,
			errCode: codeMethodNotAllowed, wantHeader: map[string]string{"Allow": "GET, HEAD"}},
	}
	e := newEnv(t, entries, nil)
	cl := e.serve(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, e, cl) })
	}
}

func TestSearchRoute(t *testing.T) {
	entries := testEntries(t)
	currency, translator, weather := entries[0], entries[1], entries[2]
	cursor := nextCursor(t, entries, registry.Query{Limit: 2})
	cases := []routeCase{
		{name: "all", target: "/v1/agents", status: 200, body: pageBody(t, entries, ""),
			wantHeader: map[string]string{"Content-Type": "application/json", "Etag": ""}},
		{name: "HEAD", method: "HEAD", target: "/v1/agents", status: 200, noBody: true},
		{name: "skill", target: "/v1/agents?skill=forecast", status: 200, body: pageBody(t, entries[2:], "")},
		{name: "skill ignores case", target: "/v1/agents?skill=FORECAST", status: 200, body: pageBody(t, entries[2:], "")},
		{name: "tag", target: "/v1/agents?tag=money", status: 200, body: pageBody(t, entries[:1], "")},
		{name: "label", target: "/v1/agents?label=team=lang", status: 200, body: pageBody(t, entries[1:2], "")},
		{name: "labels AND", target: "/v1/agents?label=team=forecast&label=zone=eu-1", status: 200,
			body: pageBody(t, entries[2:], "")},
		{name: "text", target: "/v1/agents?q=TRANSL", status: 200, body: pageBody(t, entries[1:2], "")},
		{name: "no match", target: "/v1/agents?skill=forecast&tag=money", status: 200, body: pageBody(t, nil, "")},
		{name: "first page", target: "/v1/agents?limit=2", status: 200,
			body: pageBody(t, []*registry.Entry{currency, translator}, cursor)},
		{name: "last page", target: "/v1/agents?limit=2&cursor=" + cursor, status: 200,
			body: pageBody(t, []*registry.Entry{weather}, "")},
		{name: "unknown parameter", target: "/v1/agents?color=red", status: 400, errCode: codeInvalidArgument, errField: "color"},
		{name: "limit zero", target: "/v1/agents?limit=0", status: 400, errCode: codeInvalidArgument, errField: "limit"},
		{name: "limit too large", target: "/v1/agents?limit=1001", status: 400, errCode: codeInvalidArgument, errField: "limit"},
		{name: "limit twice", target: "/v1/agents?limit=1&limit=2", status: 400, errCode: codeInvalidArgument, errField: "limit"},
		{name: "empty skill", target: "/v1/agents?skill=", status: 400, errCode: codeInvalidArgument, errField: "skill"},
		{name: "bad label", target: "/v1/agents?label=team", status: 400, errCode: codeInvalidArgument, errField: "label"},
		{name: "bad cursor", target: "/v1/agents?cursor=%21%21", status: 400, errCode: codeInvalidArgument, errField: "cursor"},
		{name: "PUT", method: "PUT", target: "/v1/agents", status: 405, errCode: codeMethodNotAllowed,
			wantHeader: map[string]string{"Allow": "GET, HEAD"}},
	}
	e := newEnv(t, entries, nil)
	cl := e.serve(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, e, cl) })
	}
}

func TestServiceRoutes(t *testing.T) {
	status, err := json.Marshal(testStatus)
	if err != nil {
		t.Fatal(err)
	}
	ok := "{\"status\":\"ok\"}\n"
	cases := []routeCase{
		{name: "status", target: "/v1/status", status: 200, body: string(status) + "\n",
			contains: []string{`"node_id":"host-a"`, `"controlplane":"127.0.0.1:18000"`, `"stale_seconds":42`,
				`"config":{"generation":2,"loaded_at":"2026-11-22T11:00:00Z","last_error":"bad key"}`}},
		{name: "status POST", method: "POST", target: "/v1/status", status: 405, errCode: codeMethodNotAllowed},
		{name: "healthz", target: "/healthz", status: 200, body: ok},
		{name: "healthz while not ready", setup: func(e *env) { e.ready.Store(false) }, target: "/healthz", status: 200, body: ok},
		{name: "readyz not ready", setup: func(e *env) { e.ready.Store(false) }, target: "/readyz", status: 503,
			errCode: codeUnavailable},
		{name: "readyz ready", setup: func(e *env) { e.ready.Store(true) }, target: "/readyz", status: 200, body: ok},
		{name: "readyz DELETE", method: "DELETE", target: "/readyz", status: 405, errCode: codeMethodNotAllowed},
		{name: "metrics", target: "/metrics", status: 200,
			contains: []string{"sidecard_sidecar_http_requests_total", "sidecard_cache_rendered_hits_total"}},
		{name: "root", target: "/", status: 404, errCode: codeNotFound},
		{name: "a2a is not routed yet", target: "/a2a/weather/.well-known/agent-card.json", status: 404, errCode: codeNotFound},
		{name: "unknown path any method", method: "PATCH", target: "/v2/agents", status: 404, errCode: codeNotFound},
		{name: "trailing slash on status", target: "/v1/status/", status: 404, errCode: codeNotFound},
	}
	e := newEnv(t, testEntries(t), nil)
	cl := e.serve(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, e, cl) })
	}
}

func TestMetricsRouteWithoutGatherer(t *testing.T) {
	e := newEnv(t, testEntries(t), func(o *Options) { o.Gatherer = nil })
	routeCase{target: "/metrics", status: 404, errCode: codeNotFound}.run(t, e, e.serve(t))
}

// TestStaleHeader checks X-Sidecard-Stale-Seconds: on every lookup
// response (whatever its status) while stale, on nothing else, and never
// while connected.
func TestStaleHeader(t *testing.T) {
	cases := []struct {
		name   string
		stale  int64
		target string
		method string
		want   string
	}{
		{name: "entry", stale: 42, target: "/v1/agents/weather", want: "42"},
		{name: "entry 304", stale: 7, target: "/v1/agents/weather", want: "7"},
		{name: "card", stale: 0, target: "/v1/agents/weather/card", want: "0"},
		{name: "search", stale: 42, target: "/v1/agents?skill=forecast", want: "42"},
		{name: "not found", stale: 42, target: "/v1/agents/nobody", want: "42"},
		{name: "bad name", stale: 42, target: "/v1/agents/NOPE", want: "42"},
		{name: "bad query", stale: 42, target: "/v1/agents?limit=x", want: "42"},
		{name: "wrong method", stale: 42, method: "POST", target: "/v1/agents", want: "42"},
		{name: "large", stale: 1 << 40, target: "/v1/agents/weather", want: "1099511627776"},
		{name: "status is not a lookup", stale: 42, target: "/v1/status", want: ""},
		{name: "healthz is not a lookup", stale: 42, target: "/healthz", want: ""},
		{name: "connected", stale: -1, target: "/v1/agents/weather", want: ""},
		{name: "connected search", stale: -1, target: "/v1/agents", want: ""},
	}
	e := newEnv(t, testEntries(t), nil)
	cl := e.serve(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.stale.Store(c.stale)
			method := c.method
			if method == "" {
				method = "GET"
			}
			headers := map[string]string{}
			if strings.Contains(c.name, "304") {
				headers["If-None-Match"] = `"3"`
			}
			got := cl.do(t, method, c.target, headers)
			if v := got.header["X-Sidecard-Stale-Seconds"]; v != c.want {
				t.Errorf("X-Sidecard-Stale-Seconds = %q, want %q (status %d)", v, c.want, got.status)
			}
		})
	}
}

// TestStaleNilOption checks that without a Stale func nothing is marked.
func TestStaleNilOption(t *testing.T) {
	e := newEnv(t, testEntries(t), func(o *Options) { o.Stale = nil })
	routeCase{target: "/v1/agents/weather", status: 200,
		wantHeader: map[string]string{"X-Sidecard-Stale-Seconds": ""}}.run(t, e, e.serve(t))
}
