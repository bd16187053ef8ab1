package api

import "net/http"

// sidecarsResponse is the body of GET /v1/sidecars.
type sidecarsResponse struct {
	Sidecars any `json:"sidecars"`
}

// sidecars handles GET /v1/sidecars: the nodes connected to the xDS server,
// as the Nodes option reports them; an empty list without one. It answers
// 200 whatever the nodes' state (500 only if their status does not encode).
func (a *API) sidecars(w http.ResponseWriter, r *http.Request) error {
	resp := sidecarsResponse{Sidecars: []struct{}{}}
	if a.nodes != nil {
		resp.Sidecars = orEmpty(a.nodes.Nodes())
	}
	a.writeJSON(w, r, http.StatusOK, resp)
	return nil
}
