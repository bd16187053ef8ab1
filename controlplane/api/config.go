package api

import "net/http"

// Config reports the control plane's configuration for GET /v1/config.
type Config interface {
	// ConfigStatus returns a JSON-encodable value (typically the state of
	// the config file: generation, loaded_at, last_error, path) the API
	// serves as the response body.
	ConfigStatus() any
}

// ConfigFunc adapts a function to Config, e.g.
// ConfigFunc(func() any { return cp.ConfigStatus() }).
type ConfigFunc func() any

// ConfigStatus returns f().
func (f ConfigFunc) ConfigStatus() any { return f() }

// config handles GET /v1/config: the Config option's status, always 200.
// The route is served only with a Config option.
func (a *API) config(w http.ResponseWriter, r *http.Request) error {
	a.writeJSON(w, r, http.StatusOK, a.configStatus.ConfigStatus())
	return nil
}
