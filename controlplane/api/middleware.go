package api

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/sidecard/sidecard/controlplane/auth"
)

// handlerFunc is an HTTP handler that reports a failure by returning an
// error before it writes anything; the error is answered in the §4 shape.
type handlerFunc func(http.ResponseWriter, *http.Request) error

// serve adapts h to http.Handler, answering its error.
func (a *API) serve(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			a.writeError(w, r, err)
		}
	})
}

// requireScope wraps a handler that needs a token with scope when tokens
// are configured: a request without a configured token is a 401, one whose
// token lacks scope a 403. The handler finds the caller in the request's
// context (auth.FromContext): its token's identity, or auth.Open when
// tokens are not configured.
func (a *API) requireScope(scope auth.Scopes, h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := a.currentTokens().Authorize(r.Header.Get("Authorization"), scope)
		switch {
		case errors.Is(err, auth.ErrUnauthenticated):
			return newError(http.StatusUnauthorized, codeUnauthenticated, "%v", err)
		case err != nil:
			return newError(http.StatusForbidden, codePermissionDenied, "%v", err)
		}
		if id.Name != "" {
			a.log.LogAttrs(r.Context(), slog.LevelDebug, "authenticated control-plane API request",
				slog.String("token", id.Name), slog.String("scopes", id.Scopes.String()),
				slog.String("method", r.Method), slog.String("path", r.URL.Path))
		}
		return h(w, r.WithContext(auth.NewContext(r.Context(), id)))
	}
}

// requireRead wraps a read handler: it needs a token with the read scope
// while the RequireReadToken option says so, and is open otherwise.
func (a *API) requireRead(h handlerFunc) handlerFunc {
	scoped := a.requireScope(auth.Read, h)
	return func(w http.ResponseWriter, r *http.Request) error {
		if a.readToken != nil && a.readToken() {
			return scoped(w, r)
		}
		return h(w, r)
	}
}

// currentTokens returns the tokens in effect; nil when none are configured.
func (a *API) currentTokens() *auth.Tokens {
	if a.tokens == nil {
		return nil
	}
	return a.tokens()
}

// instrument wraps the handler of route (a ServeMux pattern without its
// method) to count, time and log every request. Labels are the route, not
// the raw path, and a known method, so their cardinality is bounded.
func (a *API) instrument(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		elapsed := time.Since(start)
		code := rec.code()
		a.metrics.requests.WithLabelValues(route, methodLabel(r.Method), strconv.Itoa(code)).Inc()
		a.metrics.duration.WithLabelValues(route).Observe(elapsed.Seconds())
		a.log.LogAttrs(r.Context(), slog.LevelDebug, "control-plane API request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.String("route", route), slog.Int("status", code),
			slog.Duration("duration", elapsed), slog.String("remote", r.RemoteAddr))
	})
}

// methodLabel returns m when it is a standard method, else "OTHER".
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m
	}
	return "OTHER"
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// code returns the status written, 200 when the handler wrote nothing.
func (s *statusRecorder) code() int {
	if s.status == 0 {
		return http.StatusOK
	}
	return s.status
}
