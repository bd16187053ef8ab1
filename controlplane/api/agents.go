package api

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/sidecard/sidecard/controlplane/auth"
	"github.com/sidecard/sidecard/controlplane/store"
	"github.com/sidecard/sidecard/registry"
)

// pathName returns the {name} of the request path, or a 400 when it is not a
// valid entry name.
func pathName(r *http.Request) (string, error) {
	name := r.PathValue("name")
	if err := registry.ValidateName(name); err != nil {
		return "", invalid(err)
	}
	return name, nil
}

// precondition returns the store precondition of an API write by the
// request's caller, with If-Match; conditional reports whether If-Match was
// given. An If-Match of revision 0, which no entry has, is a 412 without
// asking the store.
func precondition(r *http.Request) (p store.Precondition, conditional bool, err error) {
	rev, present, err := ifMatch(r.Header)
	if err != nil {
		return store.Precondition{}, false, err
	}
	p = callerPrecondition(r.Context())
	p.MatchRevision = rev
	if present && rev <= 0 {
		return p, true, newError(http.StatusPreconditionFailed, codeFailedPrecondition,
			"no entry is at revision %d", rev)
	}
	return p, present, nil
}

// callerPrecondition returns the precondition of a write by the caller in
// ctx (put there by requireScope): source "api", registered to the
// caller's token name, and restricted to the caller's entries unless it is
// an admin. A context without a caller restricts the write to entries
// nobody registered.
func callerPrecondition(ctx context.Context) store.Precondition {
	id, _ := auth.FromContext(ctx)
	return store.Precondition{Source: registry.SourceAPI, Owner: id.Name, OwnerOnly: !id.Scopes.Has(auth.Admin)}
}

// conditionalError maps a store error of a conditional write: a missing entry
// fails the If-Match precondition (412) rather than being a 404.
func conditionalError(err error, conditional bool) error {
	if conditional && errors.Is(err, store.ErrNotFound) {
		return newError(http.StatusPreconditionFailed, codeFailedPrecondition, "%v", err)
	}
	return err
}

// putAgent handles PUT /v1/agents/{name}: creates (201) or replaces (200) the
// entry from an entry or a bare card, answering with the stored entry, whose
// registered_by is the name of the token that created it. Only that token
// (or an admin) may replace it: 403 otherwise.
func (a *API) putAgent(w http.ResponseWriter, r *http.Request) error {
	name, err := pathName(r)
	if err != nil {
		return err
	}
	if err := checkJSON(r); err != nil {
		return err
	}
	p, conditional, err := precondition(r)
	if err != nil {
		return err
	}
	body, err := a.readBody(w, r)
	if err != nil {
		return err
	}
	e, err := registry.ParseEntry(body, name)
	if err != nil {
		return invalid(err)
	}
	stored, created, err := a.store.Put(r.Context(), e, p)
	if err != nil {
		return conditionalError(err, conditional)
	}
	w.Header().Set("ETag", etag(stored.Revision))
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", "/v1/agents/"+url.PathEscape(stored.Name))
	}
	a.writeJSON(w, r, status, stored)
	return nil
}

// deleteAgent handles DELETE /v1/agents/{name}: 204, or 404 when absent;
// 403 for an entry another token registered, unless the caller is an admin.
func (a *API) deleteAgent(w http.ResponseWriter, r *http.Request) error {
	name, err := pathName(r)
	if err != nil {
		return err
	}
	p, conditional, err := precondition(r)
	if err != nil {
		return err
	}
	if _, err := a.store.Delete(r.Context(), name, p); err != nil {
		return conditionalError(err, conditional)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// getAgent handles GET /v1/agents/{name}: the entry with its ETag, or 304
// when If-None-Match lists it.
func (a *API) getAgent(w http.ResponseWriter, r *http.Request) error {
	name, err := pathName(r)
	if err != nil {
		return err
	}
	e, err := a.store.Get(name)
	if err != nil {
		return err
	}
	tag := etag(e.Revision)
	w.Header().Set("ETag", tag)
	if inm := r.Header.Get("If-None-Match"); inm != "" && noneMatch(inm, tag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	a.writeJSON(w, r, http.StatusOK, e)
	return nil
}
