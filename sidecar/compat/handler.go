package compat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"github.com/sidecard/sidecard/internal/a2aregistry"
)

// Prefix and Paths are where the Handler answers on the sidecar's server
// (a lookup.Mount): every path under Prefix, and Paths exactly. They do not
// overlap the sidecar's /v1/..., /healthz, /readyz, /metrics and /a2a/.
const Prefix = "/agents/"

// Paths are the exact paths of the API besides Prefix.
var Paths = []string{"/agents", "/health", "/jsonrpc"}

// DefaultTimeout bounds the work of one request (forwarded writes and the
// wait for the replica to show them).
const DefaultTimeout = 10 * time.Second

// Options configure a Handler. Registry is required; zero values of the
// other fields mean their defaults.
type Options struct {
	// Registry is what the API reads and writes (a ReplicaRegistry).
	Registry a2aregistry.Registry
	// Ready reports readiness for the health checks; nil means always.
	Ready func() bool
	// MaxBodyBytes bounds request bodies; 0 means
	// a2aregistry.DefaultMaxBodyBytes.
	MaxBodyBytes int
	// MaxResults bounds the agents of a listing or search; 0 means
	// a2aregistry.DefaultMaxResults.
	MaxResults int
	// Timeout bounds the work of one request; 0 means DefaultTimeout.
	Timeout time.Duration
	// Logger receives a debug line per request and internal errors; nil
	// discards.
	Logger *slog.Logger
	// Registerer receives the metrics (sidecard_compat_*); nil leaves them
	// unregistered.
	Registerer prometheus.Registerer
}

// Validate reports whether o is usable. It does not modify o.
func (o Options) Validate() error {
	var errs []error
	if o.Registry == nil {
		errs = append(errs, errors.New("registry is required"))
	}
	if o.MaxBodyBytes < 0 {
		errs = append(errs, fmt.Errorf("max body bytes %d is negative", o.MaxBodyBytes))
	}
	if o.MaxResults < 0 {
		errs = append(errs, fmt.Errorf("max results %d is negative", o.MaxResults))
	}
	if o.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout %v is negative", o.Timeout))
	}
	return errors.Join(errs...)
}

// Handler serves the A2A Registry compatible API on fasthttp: REST under
// /agents and /health, JSON-RPC 2.0 at /jsonrpc. Writes need no token: the
// sidecar serves co-located agents on loopback and forwards their writes
// with its own token. Safe for concurrent use; build it with New.
type Handler struct {
	svc     *a2aregistry.Service
	rpc     *a2aregistry.Dispatcher
	maxBody int
	timeout time.Duration
	log     *slog.Logger
	metrics *a2aregistry.Metrics
}

// New validates opts and returns the Handler. It fails when the metrics
// cannot be registered (e.g. twice with one Registerer).
func New(opts Options) (*Handler, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("new sidecar compat API: %w", err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	svc, err := a2aregistry.NewService(opts.Registry, a2aregistry.ServiceOptions{
		MaxResults: opts.MaxResults, Ready: opts.Ready, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("new sidecar compat API: %w", err)
	}
	m, err := a2aregistry.NewMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("new sidecar compat API: %w", err)
	}
	h := &Handler{svc: svc, rpc: a2aregistry.NewDispatcher(svc, m), maxBody: opts.MaxBodyBytes,
		timeout: opts.Timeout, log: log, metrics: m}
	if h.maxBody == 0 {
		h.maxBody = a2aregistry.DefaultMaxBodyBytes
	}
	if h.timeout == 0 {
		h.timeout = DefaultTimeout
	}
	return h, nil
}

// Serve answers one request of the API; it is a fasthttp.RequestHandler
// for the paths of Prefix and Paths. It keeps nothing of ctx after it
// returns.
func (h *Handler) Serve(ctx *fasthttp.RequestCtx) {
	start := time.Now()
	path := string(ctx.Path())
	if path == "/jsonrpc" {
		h.serveRPC(ctx)
	} else {
		op, status := h.serveREST(ctx, path)
		h.metrics.Observe(a2aregistry.APIREST, op, status)
	}
	if h.log.Enabled(context.Background(), slog.LevelDebug) {
		h.log.LogAttrs(context.Background(), slog.LevelDebug, "compat API request",
			slog.String("method", string(ctx.Method())), slog.String("path", path),
			slog.Int("status", ctx.Response.StatusCode()), slog.Duration("duration", time.Since(start)))
	}
}

// serveREST routes a REST request and returns its operation (the metric's
// method label) and status.
func (h *Handler) serveREST(ctx *fasthttp.RequestCtx, path string) (string, int) {
	read := ctx.IsGet() || ctx.IsHead()
	id, isAgent := strings.CutPrefix(path, Prefix)
	switch {
	case path == "/agents" && read:
		return a2aregistry.OpList, h.run(ctx, h.list)
	case path == "/agents" && ctx.IsPost():
		return a2aregistry.OpRegister, h.run(ctx, h.register)
	case path == "/agents/search" && ctx.IsPost():
		return a2aregistry.OpSearch, h.run(ctx, h.search)
	case isAgent && id != "" && !strings.Contains(id, "/") && read:
		return a2aregistry.OpGet, h.run(ctx, func(c context.Context, rc *fasthttp.RequestCtx) (int, error) { return h.get(c, rc, id) })
	case isAgent && id != "" && !strings.Contains(id, "/") && ctx.IsDelete():
		return a2aregistry.OpUnregister, h.run(ctx, func(c context.Context, rc *fasthttp.RequestCtx) (int, error) {
			return h.unregister(c, rc, id)
		})
	case path == "/health" && read:
		return a2aregistry.OpHealth, h.run(ctx, h.health)
	}
	if allow := a2aregistry.Allow(path); allow != "" {
		ctx.Response.Header.Set("Allow", allow)
		return a2aregistry.MethodUnknown, writeDetail(ctx, fasthttp.StatusMethodNotAllowed, a2aregistry.DetailMethodNotAllowed)
	}
	return a2aregistry.MethodUnknown, writeDetail(ctx, fasthttp.StatusNotFound, a2aregistry.DetailNotFound)
}

// restFunc answers a REST operation and returns the status it answered
// with; it reports a failure by returning an error before writing anything.
type restFunc func(c context.Context, ctx *fasthttp.RequestCtx) (int, error)

// run calls fn within the request timeout and answers its error.
func (h *Handler) run(ctx *fasthttp.RequestCtx, fn restFunc) int {
	c, cancel := context.WithTimeout(context.Background(), h.timeout)
	defer cancel()
	status, err := fn(c, ctx)
	if err == nil {
		return status
	}
	var be *bodyError
	if errors.As(err, &be) {
		return writeDetail(ctx, be.status, be.detail)
	}
	ce := a2aregistry.AsError(err)
	if ce.Kind == a2aregistry.KindInternal {
		h.log.LogAttrs(c, slog.LevelError, "compat API request failed", slog.String("method", string(ctx.Method())),
			slog.String("path", string(ctx.Path())), slog.Any("error", err))
	}
	status = ce.Kind.HTTPStatus()
	if status == fasthttp.StatusServiceUnavailable {
		ctx.Response.Header.Set("Retry-After", "1")
	}
	return writeDetail(ctx, status, ce.Message)
}

func (h *Handler) register(c context.Context, ctx *fasthttp.RequestCtx) (int, error) {
	var req a2aregistry.RegisterRequest
	if err := h.decodeBody(ctx, &req); err != nil {
		return 0, err
	}
	resp, err := h.svc.Register(c, req.AgentCard)
	if err != nil {
		return 0, err
	}
	return writeValue(ctx, fasthttp.StatusCreated, resp)
}

func (h *Handler) get(c context.Context, ctx *fasthttp.RequestCtx, id string) (int, error) {
	resp, err := h.svc.Get(c, id)
	if err != nil {
		return 0, err
	}
	return writeValue(ctx, fasthttp.StatusOK, resp)
}

func (h *Handler) list(c context.Context, ctx *fasthttp.RequestCtx) (int, error) {
	resp, err := h.svc.List(c)
	if err != nil {
		return 0, err
	}
	return writeJSON(ctx, fasthttp.StatusOK, append(resp.JSON(), '\n')), nil
}

func (h *Handler) search(c context.Context, ctx *fasthttp.RequestCtx) (int, error) {
	var req a2aregistry.SearchRequest
	if err := h.decodeBody(ctx, &req); err != nil {
		return 0, err
	}
	resp, err := h.svc.Search(c, req)
	if err != nil {
		return 0, err
	}
	return writeJSON(ctx, fasthttp.StatusOK, append(resp.JSON(), '\n')), nil
}

func (h *Handler) unregister(c context.Context, ctx *fasthttp.RequestCtx, id string) (int, error) {
	resp, err := h.svc.Unregister(c, id)
	if err != nil {
		return 0, err
	}
	return writeValue(ctx, fasthttp.StatusOK, resp)
}

// health answers 200 when healthy, 503 while not ready, both with the
// HealthResponse.
func (h *Handler) health(c context.Context, ctx *fasthttp.RequestCtx) (int, error) {
	resp, err := h.svc.Health(c)
	if err != nil {
		return 0, err
	}
	status := fasthttp.StatusOK
	if resp.Status != "healthy" {
		status = fasthttp.StatusServiceUnavailable
	}
	return writeValue(ctx, status, resp)
}

// bodyError is a request body refused before decoding: its status and
// detail.
type bodyError struct {
	status int
	detail string
}

func (e *bodyError) Error() string { return e.detail }

// readBody checks the Content-Type (absent, or JSON) and the size of the
// body and returns it; it is valid until the handler returns.
func (h *Handler) readBody(ctx *fasthttp.RequestCtx) ([]byte, *bodyError) {
	if ct := string(ctx.Request.Header.ContentType()); !a2aregistry.IsJSONContentType(ct) {
		return nil, &bodyError{fasthttp.StatusUnsupportedMediaType, "Content-Type must be application/json, got " + strconv.Quote(ct)}
	}
	body := ctx.PostBody()
	if len(body) > h.maxBody {
		return nil, h.tooLarge()
	}
	return body, nil
}

func (h *Handler) tooLarge() *bodyError {
	return &bodyError{fasthttp.StatusRequestEntityTooLarge, "request body is larger than " + strconv.Itoa(h.maxBody) + " bytes"}
}

// decodeBody reads and decodes a REST body into dst.
func (h *Handler) decodeBody(ctx *fasthttp.RequestCtx, dst any) error {
	body, berr := h.readBody(ctx)
	if berr != nil {
		return berr
	}
	return a2aregistry.DecodeBody(body, dst)
}

// serveRPC answers POST /jsonrpc: 200 with the response, 204 when every
// call was a notification, 413 or 415 with a JSON-RPC error for a body too
// large or not JSON, 405 for another method.
func (h *Handler) serveRPC(ctx *fasthttp.RequestCtx) {
	if !ctx.IsPost() {
		h.metrics.Observe(a2aregistry.APIJSONRPC, a2aregistry.MethodUnknown, fasthttp.StatusMethodNotAllowed)
		ctx.Response.Header.Set("Allow", a2aregistry.Allow("/jsonrpc"))
		writeJSON(ctx, fasthttp.StatusMethodNotAllowed,
			a2aregistry.InvalidRequestResponse("use POST with a JSON-RPC 2.0 request or batch"))
		return
	}
	body, berr := h.readBody(ctx)
	if berr != nil {
		h.rpcRefusal(ctx, berr)
		return
	}
	c, cancel := context.WithTimeout(context.Background(), h.timeout)
	defer cancel()
	resp := h.rpc.Serve(c, body, a2aregistry.Access{}) // the sidecar forwards with its own token
	if resp == nil {
		ctx.SetStatusCode(fasthttp.StatusNoContent)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, resp)
}

// rpcRefusal answers a JSON-RPC request refused before dispatch.
func (h *Handler) rpcRefusal(ctx *fasthttp.RequestCtx, e *bodyError) {
	h.metrics.Observe(a2aregistry.APIJSONRPC, a2aregistry.MethodUnknown, e.status)
	writeJSON(ctx, e.status, a2aregistry.InvalidRequestResponse(e.detail))
}

// writeValue answers with status and v as JSON and returns status; when v
// does not encode, it writes nothing and returns the error.
func writeValue(ctx *fasthttp.RequestCtx, status int, v any) (int, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return 0, err // a KindInternal error for the caller to answer
	}
	return writeJSON(ctx, status, append(body, '\n')), nil
}

// writeDetail answers with status and {"detail": "..."} and returns status.
func writeDetail(ctx *fasthttp.RequestCtx, status int, detail string) int {
	return writeJSON(ctx, status, a2aregistry.DetailJSON(detail))
}

// writeJSON answers with status and body, which fasthttp owns from then
// on, and returns status. fasthttp leaves the body out of HEAD answers.
func writeJSON(ctx *fasthttp.RequestCtx, status int, body []byte) int {
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.Response.Header.Set("X-Content-Type-Options", "nosniff")
	ctx.Response.SetBodyRaw(body)
	return status
}

// servesPath reports whether path is one of the API's.
func servesPath(path []byte) bool {
	if bytes.HasPrefix(path, []byte(Prefix)) {
		return true
	}
	for _, p := range Paths {
		if string(path) == p {
			return true
		}
	}
	return false
}
