package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const clientTestEntry = `{"name":"weather","labels":{"zone":"eu-1"},"endpoints":[{"url":"http://10.0.0.7:9001","weight":1}],
"card":{"protocolVersion":"0.3.0","name":"Weather","description":"Forecasts","url":"http://10.0.0.7:9001","version":"1.0.0",
"capabilities":{},"defaultInputModes":["text/plain"],"defaultOutputModes":["text/plain"],
"skills":[{"id":"forecast","name":"Forecast","description":"d","tags":["weather"]}]},"revision":7,"source":"api"}`

// fakeSidecar answers the routes the clients use with fixed bodies and
// records the request URIs.
func fakeSidecar(t *testing.T) (*httptest.Server, *[]string) {
	var seen []string
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/agents/weather", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(clientTestEntry))
	})
	mux.HandleFunc("GET /v1/agents/missing", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":{"code":"not_found","message":"agent \"missing\" not found"}}`))
	})
	mux.HandleFunc("GET /v1/agents", func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.URL.RequestURI())
		_, _ = w.Write([]byte(`{"agents":[` + clientTestEntry + `],"next_cursor":"abc"}`))
	})
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"node_id":"host-a","connected":false,"controlplane":"127.0.0.1:18000","revision":7,"agents":1,"stale_seconds":12,"config":{"generation":2,"last_error":"sidecar.yaml:3: field bogus not found"}}`))
	})
	mux.HandleFunc("GET /v1/sidecars", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"sidecars":[{"id":"host-a","labels":{"zone":"eu-1"},"address":"127.0.0.1:5000","connected_since":"2026-11-26T10:00:00Z","acked_revision":7,"nacks":1,"last_nack_error":"resource \"x\": card: required"}]}`))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &seen
}

func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out strings.Builder
	root := newRootCommand()
	root.SetOut(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

func TestClients(t *testing.T) {
	srv, seen := fakeSidecar(t)
	tests := []struct {
		name    string
		args    []string
		want    []string
		wantErr string
	}{
		{name: "get text", args: []string{"get", "weather"}, want: []string{"name:", "weather", "forecast — Forecast [weather]", "revision:", "7 (api"}},
		{name: "get json", args: []string{"get", "weather", "-o", "json"}, want: []string{"\n  \"name\": \"weather\""}},
		{name: "get missing", args: []string{"get", "missing"}, wantErr: `404 Not Found: agent "missing" not found`},
		{name: "search", args: []string{"search", "--skill", "forecast", "--label", "zone=eu-1", "-q", "fore"}, want: []string{"NAME", "weather", "forecast", "zone=eu-1", "more: --cursor abc"}},
		{name: "search bad label", args: []string{"search", "--label", "zone"}, wantErr: "want key=value"},
		{name: "status", args: []string{"status"}, want: []string{"host-a", "DISCONNECTED (stale for 12s", "generation 2", "field bogus not found"}},
		{name: "status sidecars", args: []string{"status", "--sidecars", "--controlplane", srv.URL}, want: []string{"NODE", "host-a", "127.0.0.1:5000", "zone=eu-1", `card: required`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runCLI(t, append(tt.args, "--addr", srv.URL)...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
	if len(*seen) == 0 || !strings.Contains((*seen)[0], "skill=forecast") || !strings.Contains((*seen)[0], "label=zone%3Deu-1") {
		t.Errorf("search request URIs = %v", *seen)
	}
}
