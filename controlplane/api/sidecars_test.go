package api

import (
	"strconv"
	"testing"
)

// nodeStatus stands for the xDS server's per-node status.
type nodeStatus struct {
	ID            string `json:"id"`
	AckedRevision int64  `json:"acked_revision"`
	NACKs         int    `json:"nacks"`
}

func TestSidecars(t *testing.T) {
	tests := []struct {
		name       string
		nodes      Nodes
		req        req
		wantStatus int
		wantCode   string
		wantBody   string
		wantAllow  string
	}{
		{
			name: "connected nodes",
			nodes: NodesFunc(func() any {
				return []nodeStatus{{ID: "host-a", AckedRevision: 42}, {ID: "host-b", AckedRevision: 41, NACKs: 2}}
			}),
			req: req{method: "GET", path: "/v1/sidecars"}, wantStatus: 200,
			wantBody: `{"sidecars":[{"id":"host-a","acked_revision":42,"nacks":0},` +
				`{"id":"host-b","acked_revision":41,"nacks":2}]}` + "\n",
		},
		{
			name:  "no node connected",
			nodes: NodesFunc(func() any { return []nodeStatus(nil) }),
			req:   req{method: "GET", path: "/v1/sidecars"}, wantStatus: 200, wantBody: `{"sidecars":[]}` + "\n",
		},
		{
			name: "no xDS server", req: req{method: "GET", path: "/v1/sidecars"},
			wantStatus: 200, wantBody: `{"sidecars":[]}` + "\n",
		},
		{
			name: "HEAD", nodes: NodesFunc(func() any { return []nodeStatus{{ID: "host-a"}} }),
			req: req{method: "HEAD", path: "/v1/sidecars"}, wantStatus: 200,
		},
		{
			name: "wrong method", req: req{method: "POST", path: "/v1/sidecars"},
			wantStatus: 405, wantCode: codeMethodNotAllowed, wantAllow: "GET, HEAD",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newFakeStore()
			a, _ := newTestAPI(t, Options{Store: st, View: st, Nodes: tt.nodes})
			rec := do(t, a.Handler(), tt.req)
			if tt.wantCode != "" {
				checkError(t, rec, tt.wantStatus, tt.wantCode, "")
			} else if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if tt.wantBody != "" && rec.Body.String() != tt.wantBody {
				t.Errorf("body = %q, want %q", rec.Body, tt.wantBody)
			}
			if got := rec.Header().Get("Allow"); got != tt.wantAllow {
				t.Errorf("Allow = %q, want %q", got, tt.wantAllow)
			}
			route := "/v1/sidecars"
			if got := counterValue(t, a.metrics.requests.WithLabelValues(route, tt.req.method, strconv.Itoa(tt.wantStatus))); got != 1 {
				t.Errorf("requests{%s %s %d} = %v, want 1", route, tt.req.method, tt.wantStatus, got)
			}
		})
	}
}
