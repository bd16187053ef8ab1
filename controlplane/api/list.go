package api

import (
	"context"
	"net/http"

	"github.com/sidecard/sidecard/registry"
)

// listResponse is the body of GET /v1/agents.
type listResponse struct {
	Agents     []*registry.Entry `json:"agents"`
	NextCursor string            `json:"next_cursor,omitempty"`
}

// listAgents handles GET /v1/agents: a page of the entries matching the
// query, answered from the view once it has caught up with the store's
// revision at the time of the request, so that a listing after a write sees
// it. A view that does not catch up within a.viewWait is a 503.
func (a *API) listAgents(w http.ResponseWriter, r *http.Request) error {
	q, err := registry.ParseQuery(r.URL.Query())
	if err != nil {
		return invalid(err)
	}
	rev := a.store.Revision()
	ctx, cancel := context.WithTimeout(r.Context(), a.viewWait)
	defer cancel()
	if err := a.view.WaitFor(ctx, rev); err != nil {
		w.Header().Set("Retry-After", "1")
		return newError(http.StatusServiceUnavailable, codeUnavailable,
			"the registry view has not caught up with revision %d yet; retry", rev)
	}
	page, err := a.view.Index().Search(q)
	if err != nil {
		return invalid(err)
	}
	resp := listResponse{Agents: page.Entries, NextCursor: page.NextCursor}
	if resp.Agents == nil {
		resp.Agents = []*registry.Entry{}
	}
	a.writeJSON(w, r, http.StatusOK, resp)
	return nil
}
