package api

import (
	"net/http"
	"testing"
)

var _ Config = ConfigFunc(nil)

func TestConfigRoute(t *testing.T) {
	status := map[string]any{"generation": 2, "last_error": "", "path": "/etc/sidecard/cp.yaml"}
	served, _ := newTestAPI(t, Options{Store: newFakeStore(), View: newFakeStore(),
		Config: ConfigFunc(func() any { return status })})
	without, _ := newTestAPI(t, Options{Store: newFakeStore(), View: newFakeStore()})

	tests := []struct {
		name     string
		api      *API
		method   string
		wantCode int
		wantBody string
	}{
		{"GET", served, http.MethodGet, http.StatusOK,
			`{"generation":2,"last_error":"","path":"/etc/sidecard/cp.yaml"}` + "\n"},
		{"POST", served, http.MethodPost, http.StatusMethodNotAllowed, ""},
		{"without a Config option", without, http.MethodGet, http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := do(t, tt.api.Handler(), req{method: tt.method, path: "/v1/config"})
			if rec.Code != tt.wantCode {
				t.Fatalf("%s /v1/config = %d %s, want %d", tt.method, rec.Code, rec.Body, tt.wantCode)
			}
			if tt.wantBody != "" && rec.Body.String() != tt.wantBody {
				t.Errorf("body = %s, want %s", rec.Body, tt.wantBody)
			}
			if tt.wantCode != http.StatusOK {
				checkError(t, rec, tt.wantCode, map[int]string{405: codeMethodNotAllowed, 404: codeNotFound}[tt.wantCode], "")
			}
		})
	}
}
