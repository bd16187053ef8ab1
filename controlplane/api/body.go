package api

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
)

// checkJSON returns a 415 unless the request's Content-Type is
// application/json (parameters such as charset are allowed).
func checkJSON(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return newError(http.StatusUnsupportedMediaType, codeUnsupportedMediaType,
			"Content-Type must be application/json, got %q", ct)
	}
	return nil
}

// readBody reads the request body, at most a.maxBody bytes: a larger body is
// a 413, a body that cannot be read a 400.
func (a *API) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	tooLarge := newError(http.StatusRequestEntityTooLarge, codePayloadTooLarge,
		"request body is larger than %d bytes", a.maxBody)
	if r.ContentLength > a.maxBody {
		return nil, tooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.maxBody))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, tooLarge
	case err != nil:
		return nil, newError(http.StatusBadRequest, codeInvalidArgument, "read request body: %v", err)
	}
	return body, nil
}

// writeJSON answers with status and v encoded as JSON. v must be encodable;
// when it is not, the failure is logged and a 500 is sent instead.
func (a *API) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		a.log.LogAttrs(r.Context(), slog.LevelError, "encode control-plane API response",
			slog.String("path", r.URL.Path), slog.Any("error", err))
		status = http.StatusInternalServerError
		body = []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	body = append(body, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	if _, err := w.Write(body); err != nil {
		a.log.LogAttrs(r.Context(), slog.LevelDebug, "write control-plane API response",
			slog.String("path", r.URL.Path), slog.Any("error", err))
	}
}
