package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/sidecard/sidecard/controlplane/store"
)

// heartbeatBody is the answer to a heartbeat.
type heartbeatBody struct {
	Name       string    `json:"name"`
	ExpiresAt  time.Time `json:"expires_at"` // RFC 3339 with nanoseconds, UTC
	TTLSeconds int64     `json:"ttl_seconds"`
}

// heartbeat handles POST /v1/agents/{name}/heartbeat: it renews the lease
// of an entry stored with ttl_seconds, to now plus ttl_seconds, and answers
// 200 with {"name", "expires_at", "ttl_seconds"}. A renewal is not a change:
// the entry keeps its revision, ETag and updated_at, and no sidecar is sent
// anything. A request body is allowed and ignored. It is a write: it needs a
// token with the write scope when tokens are configured, is refused (403)
// for an entry another token registered unless the caller is an admin, and
// honours If-Match like PUT.
//
// Errors: 404 for an unknown entry; 409 "conflict" for an entry without
// ttl_seconds (there is no lease to renew: the entry's state, not a request
// precondition, is what fails, so 412 is kept for If-Match) and, as for
// other writes, for an entry owned by another source; 403 for an entry
// another caller registered; 412 when If-Match fails.
func (a *API) heartbeat(w http.ResponseWriter, r *http.Request) error {
	name, err := pathName(r)
	if err != nil {
		return err
	}
	p, conditional, err := precondition(r)
	if err != nil {
		return err
	}
	l, err := a.leases.Renew(r.Context(), name, p)
	switch {
	case errors.Is(err, store.ErrNoLease):
		return newError(http.StatusConflict, codeConflict,
			"entry %q has no lease to renew: it was stored without ttl_seconds; PUT it with ttl_seconds > 0 first", name)
	case err != nil:
		return conditionalError(err, conditional)
	}
	a.writeJSON(w, r, http.StatusOK, heartbeatBody{
		Name: name, ExpiresAt: l.Expiry.UTC(), TTLSeconds: int64(l.TTL / time.Second),
	})
	return nil
}
