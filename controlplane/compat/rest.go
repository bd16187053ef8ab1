package compat

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/sidecard/sidecard/controlplane/auth"
	"github.com/sidecard/sidecard/internal/a2aregistry"
)

// httpError is a REST failure: its status and the detail of the
// {"detail": "..."} body A2A Registry (FastAPI) answers errors with.
type httpError struct {
	status int
	detail string
}

func (e *httpError) Error() string { return e.detail }

// restHandler handles a REST route and returns the status it answered
// with; it reports a failure by returning an error before writing anything.
type restHandler func(w http.ResponseWriter, r *http.Request) (int, error)

// rest adapts h, the handler of operation op, to http.Handler: it answers
// h's error, counts the request and logs it at debug level.
func (h *Handler) rest(op string, fn restHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		status, err := fn(w, r)
		if err != nil {
			status = h.writeError(w, r, err)
		}
		h.metrics.Observe(a2aregistry.APIREST, op, status)
		if h.log.Enabled(r.Context(), slog.LevelDebug) {
			h.log.LogAttrs(r.Context(), slog.LevelDebug, "compat API request",
				slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("op", op),
				slog.Int("status", status), slog.Duration("duration", time.Since(start)))
		}
	})
}

// writeError answers err as {"detail": "..."} and returns the status sent.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) int {
	var he *httpError
	if !errors.As(err, &he) {
		ce := a2aregistry.AsError(err)
		he = &httpError{status: ce.Kind.HTTPStatus(), detail: ce.Message}
		if ce.Kind == a2aregistry.KindInternal {
			h.log.LogAttrs(r.Context(), slog.LevelError, "compat API request failed",
				slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("error", err))
		}
	}
	switch he.status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", "Bearer")
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "1")
	}
	writeBody(w, r, he.status, a2aregistry.DetailJSON(he.detail))
	return he.status
}

// register handles POST /agents: 201 and the RegisterResponse, whether the
// agent was created or replaced.
func (h *Handler) register(w http.ResponseWriter, r *http.Request) (int, error) {
	r, err := h.authorize(r, auth.Write)
	if err != nil {
		return 0, err
	}
	var req a2aregistry.RegisterRequest
	if err := h.decodeBody(w, r, &req); err != nil {
		return 0, err
	}
	resp, err := h.svc.Register(r.Context(), req.AgentCard)
	if err != nil {
		return 0, err
	}
	return writeValue(w, r, http.StatusCreated, resp)
}

// get handles GET /agents/{id}: {"agent_card": {...}}.
func (h *Handler) get(w http.ResponseWriter, r *http.Request) (int, error) {
	r, err := h.authorizeRead(r)
	if err != nil {
		return 0, err
	}
	resp, err := h.svc.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return 0, err
	}
	return writeValue(w, r, http.StatusOK, resp)
}

// list handles GET /agents: {"agents": [...], "count": N}.
func (h *Handler) list(w http.ResponseWriter, r *http.Request) (int, error) {
	r, err := h.authorizeRead(r)
	if err != nil {
		return 0, err
	}
	resp, err := h.svc.List(r.Context())
	if err != nil {
		return 0, err
	}
	return writeJSON(w, r, http.StatusOK, resp.JSON()), nil
}

// search handles POST /agents/search: {"agents": [...], "count": N,
// "query": "..."}.
func (h *Handler) search(w http.ResponseWriter, r *http.Request) (int, error) {
	r, err := h.authorizeRead(r)
	if err != nil {
		return 0, err
	}
	var req a2aregistry.SearchRequest
	if err := h.decodeBody(w, r, &req); err != nil {
		return 0, err
	}
	resp, err := h.svc.Search(r.Context(), req)
	if err != nil {
		return 0, err
	}
	return writeJSON(w, r, http.StatusOK, resp.JSON()), nil
}

// unregister handles DELETE /agents/{id}: 200 and the UnregisterResponse.
func (h *Handler) unregister(w http.ResponseWriter, r *http.Request) (int, error) {
	r, err := h.authorize(r, auth.Write)
	if err != nil {
		return 0, err
	}
	resp, err := h.svc.Unregister(r.Context(), r.PathValue("id"))
	if err != nil {
		return 0, err
	}
	return writeValue(w, r, http.StatusOK, resp)
}

// health handles GET /health: 200 when healthy, 503 while not ready, both
// with the HealthResponse.
func (h *Handler) health(w http.ResponseWriter, r *http.Request) (int, error) {
	resp, err := h.svc.Health(r.Context())
	if err != nil {
		return 0, err
	}
	status := http.StatusOK
	if resp.Status != "healthy" {
		status = http.StatusServiceUnavailable
	}
	return writeValue(w, r, status, resp)
}

// methodNotAllowed answers a known path with a method it does not serve.
func methodNotAllowed(allow string) restHandler {
	return func(w http.ResponseWriter, _ *http.Request) (int, error) {
		w.Header().Set("Allow", allow)
		return 0, &httpError{status: http.StatusMethodNotAllowed, detail: a2aregistry.DetailMethodNotAllowed}
	}
}

// decodeBody reads the JSON request body into dst. Unknown fields are
// ignored, as A2A Registry ignores them; a body that is not a JSON object of
// the right types is a 422.
func (h *Handler) decodeBody(w http.ResponseWriter, r *http.Request, dst any) error {
	body, err := h.readBody(w, r)
	if err != nil {
		return err
	}
	return a2aregistry.DecodeBody(body, dst)
}

// readBody checks the Content-Type (absent, or JSON) and reads the body, at
// most h.maxBody bytes: 415, 413 or 400 otherwise.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); !a2aregistry.IsJSONContentType(ct) {
		return nil, &httpError{status: http.StatusUnsupportedMediaType,
			detail: "Content-Type must be application/json, got " + strconv.Quote(ct)}
	}
	tooLarge := &httpError{status: http.StatusRequestEntityTooLarge,
		detail: "request body is larger than " + strconv.FormatInt(h.maxBody, 10) + " bytes"}
	if r.ContentLength > h.maxBody {
		return nil, tooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, tooLarge
	case err != nil:
		return nil, &httpError{status: http.StatusBadRequest, detail: "read request body: " + err.Error()}
	}
	return body, nil
}

// writeValue answers with status and v as JSON and returns status; when v
// does not encode, it writes nothing and returns the error.
func writeValue(w http.ResponseWriter, r *http.Request, status int, v any) (int, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return 0, err // a KindInternal error for the caller to answer
	}
	return writeJSON(w, r, status, body), nil
}

// writeJSON answers with status and the JSON body, HEAD with the headers
// only, and returns status.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, body []byte) int {
	return writeBody(w, r, status, append(body, '\n'))
}

// writeBody answers with status and body, a JSON document ending in a
// newline, HEAD with the headers only, and returns status.
func writeBody(w http.ResponseWriter, r *http.Request, status int, body []byte) int {
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	hdr.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body) // a failed write means the client went away
	}
	return status
}

// writeRPC answers a JSON-RPC request with status and body.
func writeRPC(w http.ResponseWriter, status int, body []byte) {
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	hdr.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(body) // a failed write means the client went away
}
