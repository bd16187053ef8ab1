package compat_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/sidecard/sidecard/controlplane/compat"
)

// TestMetrics checks the request and error counters and that their labels
// stay bounded whatever the requests.
func TestMetrics(t *testing.T) {
	e := newEnv(t, compat.Options{})
	for _, r := range []req{
		{method: "POST", path: "/agents", body: registerBody(weatherCard)},
		{method: "GET", path: "/agents/weather"},
		{method: "GET", path: "/agents/nobody"},
		{method: "GET", path: "/agents"},
		{method: "GET", path: "/health"},
		{method: "PUT", path: "/agents"},
		{method: "GET", path: "/agents/x/y/z"},
	} {
		e.do(r)
	}
	e.rpc(`[{"jsonrpc":"2.0","method":"get_agent","params":["weather"],"id":1},
		{"jsonrpc":"2.0","method":"get_agent","params":["nobody"],"id":2},
		{"jsonrpc":"2.0","method":"no_such_method_` + strings.Repeat("x", 100) + `","id":3},
		{"jsonrpc":"2.0","method":"health_check"}]`)
	e.rpc(`{not json`)

	got := counterValues(t, e, "sidecard_compat_requests_total")
	want := map[string]float64{
		"api=rest,method=register":        1,
		"api=rest,method=get":             2,
		"api=rest,method=list":            1,
		"api=rest,method=health":          1,
		"api=rest,method=unknown":         2,
		"api=jsonrpc,method=get_agent":    2,
		"api=jsonrpc,method=unknown":      2,
		"api=jsonrpc,method=health_check": 1,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("requests{%s} = %v, want %v", k, got[k], v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok && v != 0 {
			t.Errorf("unexpected requests{%s} = %v", k, v)
		}
	}
	errs := counterValues(t, e, "sidecard_compat_errors_total")
	wantErrs := map[string]float64{
		"api=rest,code=404,method=get":             1,
		"api=rest,code=405,method=unknown":         1,
		"api=rest,code=404,method=unknown":         1,
		"api=jsonrpc,code=-32001,method=get_agent": 1,
		"api=jsonrpc,code=-32601,method=unknown":   1,
		"api=jsonrpc,code=-32700,method=unknown":   1,
	}
	if !maps.Equal(errs, wantErrs) {
		t.Errorf("errors = %v\nwant     %v", errs, wantErrs)
	}
}

// counterValues returns the values of the counter family name by their
// labels, written "k=v,k=v" in label-name order.
func counterValues(t *testing.T, e *env, name string) map[string]float64 {
	t.Helper()
	families, err := e.metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			slices.Sort(labels)
			out[strings.Join(labels, ",")] = m.GetCounter().GetValue()
		}
	}
	return out
}
