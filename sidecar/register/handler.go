package register

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/sidecard/sidecard/registry"
)

// agentsPrefix is the path prefix of the routes Serve answers.
const agentsPrefix = "/v1/agents/"

// requestTimeout bounds the control-plane calls of one request of an
// agent, retries included.
const requestTimeout = 15 * time.Second

// Serve answers PUT and DELETE /v1/agents/{name} from co-located agents
// (see the package documentation); it is a fasthttp.RequestHandler for
// the lookup API's entry route, which answers GET itself. It keeps nothing
// of ctx after it returns. Its control-plane calls are bounded by the
// Client's deadlines and by 15 s in all.
func (r *Registrar) Serve(ctx *fasthttp.RequestCtx) {
	name, ok := pathName(ctx.Path())
	if !ok {
		writeError(ctx, fasthttp.StatusNotFound, "not_found", "no such path: "+string(ctx.Path()), "")
		return
	}
	if err := registry.ValidateName(name); err != nil {
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_argument", err.Error(), "name")
		return
	}
	switch {
	case ctx.IsPut():
		r.put(ctx, name)
	case ctx.IsDelete():
		r.delete(ctx, name)
	default:
		ctx.Response.Header.Set("Allow", "GET, HEAD, PUT, DELETE")
		writeError(ctx, fasthttp.StatusMethodNotAllowed, "method_not_allowed",
			fmt.Sprintf("method %s is not allowed on %s", ctx.Method(), ctx.Path()), "")
	}
}

// RequestConfig is a fasthttp.Server HeaderReceived hook: PUT
// /v1/agents/{name} may carry a body of MaxBodyBytes; other requests get
// next's configuration (nil: the server's).
func RequestConfig(next func(*fasthttp.RequestHeader) fasthttp.RequestConfig) func(*fasthttp.RequestHeader) fasthttp.RequestConfig {
	return func(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
		if h.IsPut() && bytes.HasPrefix(h.RequestURI(), []byte(agentsPrefix)) {
			return fasthttp.RequestConfig{MaxRequestBodySize: MaxBodyBytes}
		}
		if next == nil {
			return fasthttp.RequestConfig{}
		}
		return next(h)
	}
}

// pathName returns the {name} of /v1/agents/{name}.
func pathName(path []byte) (string, bool) {
	rest, ok := bytes.CutPrefix(path, []byte(agentsPrefix))
	if !ok || len(rest) == 0 || bytes.IndexByte(rest, '/') >= 0 {
		return "", false
	}
	return string(rest), true
}

// put registers the agent: the body is an entry or a bare card, as on the
// control plane. It answers with the control plane's answer.
func (r *Registrar) put(ctx *fasthttp.RequestCtx, name string) {
	if mt, _, err := mime.ParseMediaType(string(ctx.Request.Header.ContentType())); err != nil || mt != "application/json" {
		writeError(ctx, fasthttp.StatusUnsupportedMediaType, "unsupported_media_type",
			fmt.Sprintf("Content-Type must be application/json, got %q", ctx.Request.Header.ContentType()), "")
		return
	}
	ifMatch, err := ifMatchRevision(ctx.Request.Header.Peek("If-Match"))
	if err != nil {
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_argument", err.Error(), "")
		return
	}
	e, err := registry.ParseEntry(ctx.PostBody(), name)
	if err != nil {
		field := ""
		if fe, ok := registry.AsFieldError(err); ok {
			field = fe.Field
		}
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_argument", err.Error(), field)
		return
	}
	if e.TTLSeconds == 0 {
		e.TTLSeconds = int64(r.opts.TTL / time.Second)
	}
	check, err := healthURL(e, r.opts.HealthPath)
	if err != nil {
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_argument", err.Error(), "endpoints")
		return
	}
	c, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	stored, err := r.Register(c, e, check, ifMatch)
	if err != nil {
		relayError(ctx, err)
		return
	}
	ctx.Response.Header.Set("ETag", `"`+strconv.FormatInt(stored.Entry.Revision, 10)+`"`)
	status := fasthttp.StatusOK
	if stored.Created {
		status = fasthttp.StatusCreated
		ctx.Response.Header.Set("Location", agentsPrefix+url.PathEscape(stored.Entry.Name))
	}
	writeJSON(ctx, status, stored.JSON)
}

// Register registers e (whose ttl_seconds is set) with the control plane
// and keeps it registered while GET checkURL passes. A registration of a
// name already registered here replaces its entry and health state. It
// fails with ErrClosed once Run has ended.
func (r *Registrar) Register(ctx context.Context, e *registry.Entry, checkURL string, ifMatch int64) (*Stored, error) {
	for {
		g, err := r.acquire(e.Name)
		if err != nil {
			return nil, err
		}
		g.op.Lock()
		g.mu.Lock()
		removed := g.removed
		g.mu.Unlock()
		if removed { // deleted while this call waited: start afresh
			g.op.Unlock()
			continue
		}
		stored, err := r.cp.Put(ctx, e, ifMatch)
		r.commit(g, e, checkURL, err)
		g.op.Unlock()
		if err != nil {
			return nil, err
		}
		r.log.Info("agent registered", "agent", e.Name, "ttl_seconds", e.TTLSeconds, "health_check", checkURL,
			"revision", stored.Entry.Revision)
		return stored, nil
	}
}

// ErrClosed: the Registrar has shut down and registers nothing more.
var ErrClosed = errors.New("the sidecar is shutting down")

// acquire returns the registration of name, a new one when there is none.
func (r *Registrar) acquire(name string) (*registration, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state == stateClosed {
		return nil, ErrClosed
	}
	if g, ok := r.regs[name]; ok {
		return g, nil
	}
	g := &registration{name: name, done: make(chan struct{})}
	r.regs[name] = g
	r.metrics.agents.Set(float64(len(r.regs)))
	return g, nil
}

// commit records the outcome of the agent's PUT of e: on success the
// registration is healthy and registered and its worker starts; a first
// PUT that failed removes the registration.
func (r *Registrar) commit(g *registration, e *registry.Entry, checkURL string, err error) {
	g.mu.Lock()
	if err != nil {
		first := !g.committed
		if first {
			g.removed = true
		}
		g.mu.Unlock()
		if first {
			r.forget(g)
		}
		return
	}
	g.entry, g.healthURL, g.committed, g.registered, g.healthy = e, checkURL, true, true, true
	g.failures, g.checkErr, g.cpErr = 0, "", ""
	g.expiresAt = r.clock.Now().Add(time.Duration(e.TTLSeconds) * time.Second)
	g.mu.Unlock()
	r.signal()
}

// forget removes g from the registrations, if it is still the one there,
// and stops its worker.
func (r *Registrar) forget(g *registration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.regs[g.name] == g {
		delete(r.regs, g.name)
		select {
		case <-g.done:
		default:
			close(g.done)
		}
	}
	r.metrics.agents.Set(float64(len(r.regs)))
}

// delete deregisters the agent (or any entry of that name: the sidecar
// forwards the DELETE either way) and answers 204, or the control plane's
// error.
func (r *Registrar) delete(ctx *fasthttp.RequestCtx, name string) {
	c, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	if err := r.Deregister(c, name); err != nil {
		relayError(ctx, err)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}

// Deregister deletes the entry name at the control plane and ends its
// registration here, if any: its lease is no longer renewed even when the
// control plane cannot be reached.
func (r *Registrar) Deregister(ctx context.Context, name string) error {
	r.mu.Lock()
	g := r.regs[name]
	r.mu.Unlock()
	if g == nil {
		return r.cp.Delete(ctx, name)
	}
	g.op.Lock()
	defer g.op.Unlock()
	err := r.cp.Delete(ctx, name)
	g.mu.Lock()
	wasLive := g.committed && !g.removed
	g.removed, g.registered = true, false
	g.mu.Unlock()
	r.forget(g)
	if wasLive && (err == nil || errors.Is(err, ErrNotFound)) {
		r.metrics.deregistrations.WithLabelValues(reasonAgent).Inc()
		r.log.Info("agent deregistered at its request", "agent", name)
	}
	return err
}

// ifMatchRevision parses an If-Match header of one revision ("42" or
// "\"42\""); 0 when absent.
func ifMatchRevision(v []byte) (int64, error) {
	if len(v) == 0 {
		return 0, nil
	}
	s := string(bytes.Trim(bytes.TrimSpace(v), `"`))
	rev, err := strconv.ParseInt(s, 10, 64)
	if err != nil || rev <= 0 {
		return 0, fmt.Errorf("If-Match: %q is not a revision", v)
	}
	return rev, nil
}

// relayError answers a failed control-plane call: the control plane's own
// answer when it refused the request for the agent's reasons (400, 404,
// 409, 412, ...), 502 when it refused the sidecar's token, 503 when none
// answered.
func relayError(ctx *fasthttp.RequestCtx, err error) {
	var ae *APIError
	switch {
	case errors.Is(err, ErrClosed):
		writeError(ctx, fasthttp.StatusServiceUnavailable, "unavailable", err.Error(), "")
	case errors.Is(err, ErrUnavailable):
		ctx.Response.Header.Set("Retry-After", "1")
		writeError(ctx, fasthttp.StatusServiceUnavailable, "unavailable",
			"no control plane accepted the request: "+err.Error(), "")
	case errors.Is(err, ErrRefused):
		writeError(ctx, fasthttp.StatusBadGateway, "bad_gateway",
			"the control plane refused this sidecar's token (controlplane.token_file): "+err.Error(), "")
	case errors.As(err, &ae) && json.Valid(ae.Body) && len(ae.Body) > 0:
		writeJSON(ctx, ae.Status, ae.Body)
	case errors.As(err, &ae):
		writeError(ctx, ae.Status, ae.Code, ae.Message, ae.Field)
	default:
		writeError(ctx, fasthttp.StatusBadGateway, "bad_gateway", err.Error(), "")
	}
}

// writeError answers with the §4 error shape.
func writeError(ctx *fasthttp.RequestCtx, status int, code, message, field string) {
	body, _ := json.Marshal(map[string]map[string]string{"error": errorDetail(code, message, field)}) // strings always encode
	writeJSON(ctx, status, append(body, '\n'))
}

func errorDetail(code, message, field string) map[string]string {
	d := map[string]string{"code": code, "message": message}
	if field != "" {
		d["field"] = field
	}
	return d
}

// writeJSON answers with status and a JSON body (copied).
func writeJSON(ctx *fasthttp.RequestCtx, status int, body []byte) {
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.Response.Header.Set("X-Content-Type-Options", "nosniff")
	ctx.SetBody(body)
}
