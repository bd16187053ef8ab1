package api

import (
	"net/http"
	"strings"
	"testing"
)

// fileStatus stands for the file source's per-file status.
type fileStatus struct {
	Path  string `json:"path"`
	Error string `json:"error,omitempty"`
}

func TestStatusRoutes(t *testing.T) {
	tests := []struct {
		name       string
		opts       func(*Options)
		req        req
		wantStatus int
		wantCode   string
		wantHeader map[string]string
		wantBody   string // exact body, newline included; "" skips the check
		wantIn     string // substring of the body
	}{
		{name: "healthz", req: req{method: "GET", path: "/healthz"}, wantStatus: 200, wantBody: `{"status":"ok"}` + "\n"},
		{
			name: "healthz while not ready", opts: func(o *Options) { o.Ready = func() bool { return false } },
			req: req{method: "GET", path: "/healthz"}, wantStatus: 200,
		},
		{name: "readyz without a Ready func", req: req{method: "GET", path: "/readyz"}, wantStatus: 200, wantBody: `{"status":"ok"}` + "\n"},
		{
			name: "readyz ready", opts: func(o *Options) { o.Ready = func() bool { return true } },
			req: req{method: "GET", path: "/readyz"}, wantStatus: 200,
		},
		{
			name: "readyz not ready", opts: func(o *Options) { o.Ready = func() bool { return false } },
			req: req{method: "GET", path: "/readyz"}, wantStatus: 503, wantCode: codeUnavailable,
		},
		{
			name: "sources",
			opts: func(o *Options) {
				o.Sources = SourcesFunc(func() any { return []fileStatus{{Path: "/etc/reg/a.yaml"}, {Path: "b.yaml", Error: "line 3: bad"}} })
			},
			req: req{method: "GET", path: "/v1/sources"}, wantStatus: 200,
			wantBody: `{"sources":[{"path":"/etc/reg/a.yaml"},{"path":"b.yaml","error":"line 3: bad"}]}` + "\n",
		},
		{
			name: "sources returning a nil slice",
			opts: func(o *Options) { o.Sources = SourcesFunc(func() any { return []fileStatus(nil) }) },
			req:  req{method: "GET", path: "/v1/sources"}, wantStatus: 200, wantBody: `{"sources":[]}` + "\n",
		},
		{name: "no sources", req: req{method: "GET", path: "/v1/sources"}, wantStatus: 200, wantBody: `{"sources":[]}` + "\n"},
		{
			name: "sources that do not encode",
			opts: func(o *Options) { o.Sources = SourcesFunc(func() any { return func() {} }) },
			req:  req{method: "GET", path: "/v1/sources"}, wantStatus: 500, wantCode: codeInternal,
		},
		{name: "metrics", req: req{method: "GET", path: "/metrics"}, wantStatus: 200, wantIn: "sidecard_api_request_duration_seconds"},
		{
			name: "wrong method on an entry", req: req{method: "POST", path: "/v1/agents/weather"},
			wantStatus: 405, wantCode: codeMethodNotAllowed, wantHeader: map[string]string{"Allow": "GET, HEAD, PUT, DELETE"},
		},
		{
			name: "wrong method on the list", req: req{method: "DELETE", path: "/v1/agents"},
			wantStatus: 405, wantCode: codeMethodNotAllowed, wantHeader: map[string]string{"Allow": "GET, HEAD"},
		},
		{
			name: "wrong method on healthz", req: req{method: "PUT", path: "/healthz"},
			wantStatus: 405, wantCode: codeMethodNotAllowed, wantHeader: map[string]string{"Allow": "GET, HEAD"},
		},
		{name: "unknown path", req: req{method: "GET", path: "/v2/agents"}, wantStatus: 404, wantCode: codeNotFound},
		{name: "too deep a path", req: req{method: "GET", path: "/v1/agents/weather/card"}, wantStatus: 404, wantCode: codeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newFakeStore()
			opts := Options{Store: st, View: st}
			if tt.opts != nil {
				tt.opts(&opts)
			}
			a, _ := newTestAPI(t, opts)
			// One request first so that /metrics has a series to show.
			do(t, a.Handler(), req{method: "GET", path: "/healthz"})
			rec := do(t, a.Handler(), tt.req)
			if tt.wantCode != "" {
				checkError(t, rec, tt.wantStatus, tt.wantCode, "")
			} else if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.wantStatus, rec.Body)
			}
			for k, want := range tt.wantHeader {
				if got := rec.Header().Get(k); got != want {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
			if tt.wantBody != "" && rec.Body.String() != tt.wantBody {
				t.Errorf("body = %q, want %q", rec.Body, tt.wantBody)
			}
			if !strings.Contains(rec.Body.String(), tt.wantIn) {
				t.Errorf("body does not contain %q:\n%s", tt.wantIn, rec.Body)
			}
		})
	}
}

func TestNoGathererNoMetricsRoute(t *testing.T) {
	st := newFakeStore()
	a, err := New(Options{Store: st, View: st})
	if err != nil {
		t.Fatal(err)
	}
	checkError(t, do(t, a.Handler(), req{method: "GET", path: "/metrics"}), http.StatusNotFound, codeNotFound, "")
}
