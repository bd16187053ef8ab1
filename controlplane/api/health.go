package api

import (
	"encoding/json"
	"net/http"
)

// statusOK is the body of a successful health or readiness check.
var statusOK = struct {
	Status string `json:"status"`
}{Status: "ok"}

// healthz handles GET /healthz: 200 while the process serves HTTP.
func (a *API) healthz(w http.ResponseWriter, r *http.Request) error {
	a.writeJSON(w, r, http.StatusOK, statusOK)
	return nil
}

// readyz handles GET /readyz: 200 when the Ready option says so, else 503.
func (a *API) readyz(w http.ResponseWriter, r *http.Request) error {
	if a.ready != nil && !a.ready() {
		return newError(http.StatusServiceUnavailable, codeUnavailable, "the control plane is not ready")
	}
	a.writeJSON(w, r, http.StatusOK, statusOK)
	return nil
}

// sourcesResponse is the body of GET /v1/sources.
type sourcesResponse struct {
	Sources any `json:"sources"`
}

// sources handles GET /v1/sources: the status of every registry source.
func (a *API) sources(w http.ResponseWriter, r *http.Request) error {
	resp := sourcesResponse{Sources: []struct{}{}}
	if a.sourceStatus != nil {
		resp.Sources = orEmpty(a.sourceStatus.SourceStatus())
	}
	a.writeJSON(w, r, http.StatusOK, resp)
	return nil
}

// methodNotAllowed answers a known path with a method it does not serve.
func methodNotAllowed(allow string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Allow", allow)
		return newError(http.StatusMethodNotAllowed, codeMethodNotAllowed,
			"method %s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, allow)
	}
}

// notFound answers a path the API does not serve.
func notFound(_ http.ResponseWriter, r *http.Request) error {
	return newError(http.StatusNotFound, codeNotFound, "no such path: %s", r.URL.Path)
}

// orEmpty returns v, or an empty list when v encodes as JSON null (nil, or a
// nil slice or map behind the interface). A v that does not encode is
// returned as is, for writeJSON to report.
func orEmpty(v any) any {
	raw, err := json.Marshal(v)
	switch {
	case err != nil:
		return v
	case string(raw) == "null":
		return []struct{}{}
	}
	return json.RawMessage(raw)
}
