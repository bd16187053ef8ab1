package api

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestRequestMetricsAndLogs(t *testing.T) {
	st := seeded(t, seed{name: "weather", rev: 1})
	a, logs := newTestAPI(t, Options{Store: st, View: st})
	requests := []req{
		{method: "GET", path: "/v1/agents/weather"},
		{method: "GET", path: "/v1/agents/rain"},
		{method: "GET", path: "/v1/agents/snow"},
		{method: "PUT", path: "/v1/agents/weather", body: entryJSON("weather"), header: jsonCT},
		{method: "BREW", path: "/v1/agents"},
		{method: "GET", path: "/no/such/path"},
	}
	for _, r := range requests {
		do(t, a.Handler(), r)
	}
	tests := []struct {
		name                string
		route, method, code string
		want                float64
	}{
		{name: "found", route: "/v1/agents/{name}", method: "GET", code: "200", want: 1},
		{name: "raw paths share the route", route: "/v1/agents/{name}", method: "GET", code: "404", want: 2},
		{name: "update", route: "/v1/agents/{name}", method: "PUT", code: "200", want: 1},
		{name: "unknown method", route: "/v1/agents", method: "OTHER", code: "405", want: 1},
		{name: "unmatched path", route: routeUnmatched, method: "GET", code: "404", want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := counterValue(t, a.metrics.requests.WithLabelValues(tt.route, tt.method, tt.code))
			if got != tt.want {
				t.Errorf("requests{%s %s %s} = %v, want %v", tt.route, tt.method, tt.code, got, tt.want)
			}
		})
	}
	if n := seriesCount(a.metrics.duration); n != 3 {
		t.Errorf("duration histogram has %d series, want 3 (one per route)", n)
	}

	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	var requestLines int
	for _, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["msg"] == "control-plane API request" {
			requestLines++
			if rec["level"] != "DEBUG" || rec["route"] == nil || rec["status"] == nil {
				t.Errorf("request log line %q lacks level DEBUG, route or status", line)
			}
		}
	}
	if requestLines != len(requests) {
		t.Errorf("%d request log lines, want %d", requestLines, len(requests))
	}
}
