package lookup

import (
	"fmt"
	"strconv"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"

	"github.com/sidecard/sidecard/cache"
)

// Header names in fasthttp's canonical form, and fixed values.
var (
	hdrETag    = []byte("Etag")
	hdrAllow   = []byte("Allow")
	hdrStale   = []byte("X-Sidecard-Stale-Seconds")
	hdrNoSniff = []byte("X-Content-Type-Options")
	valNoSniff = []byte("nosniff")
	mimeJSON   = []byte("application/json")
)

// Handler serves the sidecar's lookup API (see the package comment).
//
// A Handler is safe for concurrent use. The zero value is not usable; use
// New. It owns the goroutine of its rendered-response cache: call Close
// once the server using it has shut down.
type Handler struct {
	src         Source
	status      StatusSource
	ready       func() bool
	stale       func() (bool, int64)
	promHandler fasthttp.RequestHandler // GET /metrics; nil when no Gatherer was given
	entryWrite  fasthttp.RequestHandler // other methods on /v1/agents/{name}; nil: 405

	router   *router
	cache    *renderCache
	requests *httpMetrics
	gen      atomic.Pointer[generation] // the snapshot search pages are valid for
	nextSeq  atomic.Uint64
}

// generation numbers a snapshot for the keys of search pages. Every
// generation has its own seq, so a seq names exactly one snapshot.
type generation struct {
	snap *cache.Snapshot
	seq  uint64
}

// New returns a Handler for opts, which must pass Validate. It registers the
// handler's metrics with opts.Registerer.
func New(opts Options) (*Handler, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	rm, err := newRenderMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	rc, err := newRenderCache(opts.cacheMaxCost(), rm)
	if err != nil {
		return nil, err
	}
	h := &Handler{
		src:    opts.Source,
		status: opts.Status,
		ready:  opts.Ready,
		stale:  opts.Stale,
		router: newRouter(opts.Mounts),
		cache:  rc,
	}
	h.entryWrite = opts.EntryWrite
	labels := make([]string, len(h.router.routes))
	for i, r := range h.router.routes {
		labels[i] = r.label
	}
	if h.requests, err = newHTTPMetrics(opts.Registerer, labels); err == nil {
		err = register(opts.Registerer, newRistrettoCollector(rc.c))
	}
	if err != nil {
		rc.close()
		return nil, err
	}
	if opts.Gatherer != nil {
		h.promHandler = fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(opts.Gatherer, promhttp.HandlerOpts{}))
	}
	h.gen.Store(&generation{})
	return h, nil
}

// Serve answers one request; it is a fasthttp.RequestHandler. It keeps
// nothing of ctx after it returns. Its duration metric counts from
// ctx.Time (set by the fasthttp server just before it calls the handler),
// or from the call when that is zero.
func (h *Handler) Serve(ctx *fasthttp.RequestCtx) {
	start := ctx.Time()
	if start.IsZero() {
		start = time.Now()
	}
	id, arg := h.router.match(ctx.Path())
	r := &h.router.routes[id]
	if r.lookup {
		h.setStale(ctx)
	}
	switch {
	case r.mount != nil:
		r.mount(ctx)
	case id == routeEntry && h.entryWrite != nil && !ctx.IsGet() && !ctx.IsHead():
		h.entryWrite(ctx)
	case id != routeUnknown && !ctx.IsGet() && !ctx.IsHead():
		ctx.Response.Header.SetCanonical(hdrAllow, allowGet)
		writeError(ctx, newError(fasthttp.StatusMethodNotAllowed, codeMethodNotAllowed,
			"method %s is not allowed on %s; use GET or HEAD", ctx.Method(), ctx.Path()))
	default:
		r.serve(h, ctx, arg)
	}
	h.requests.observe(id, ctx.Response.StatusCode(), time.Since(start).Seconds())
}

// Close stops the rendered-response cache's goroutine. It must be called
// only after every call to Serve has returned (after the server's
// Shutdown); Serve must not be called afterwards.
func (h *Handler) Close() { h.cache.close() }

// SetCacheMaxCost bounds the rendered-response cache to n bytes from now
// on (0 means DefaultCacheMaxCostBytes; negative n is refused). A smaller
// bound is reached as new renders are admitted (the cache evicts on
// insertion), not at once. Safe for concurrent use.
func (h *Handler) SetCacheMaxCost(n int64) error {
	if n < 0 {
		return fmt.Errorf("lookup: cache max cost must not be negative, got %d", n)
	}
	h.cache.c.UpdateMaxCost(Options{CacheMaxCostBytes: n}.cacheMaxCost())
	return nil
}

// setStale sets X-Sidecard-Stale-Seconds while the sidecar has no live
// stream to a control plane.
func (h *Handler) setStale(ctx *fasthttp.RequestCtx) {
	if h.stale == nil {
		return
	}
	stale, seconds := h.stale()
	if !stale {
		return
	}
	var buf [20]byte
	ctx.Response.Header.SetCanonical(hdrStale, strconv.AppendInt(buf[:0], seconds, 10))
}

// sequence returns the sequence number of snapshot s, for search page keys.
// The first request to see a new snapshot numbers it; a request still on
// an older snapshot gets a fresh number, which only costs it a page miss.
func (h *Handler) sequence(s *cache.Snapshot) uint64 {
	g := h.gen.Load()
	if g.snap == s {
		return g.seq
	}
	next := &generation{snap: s, seq: h.nextSeq.Add(1)}
	h.gen.CompareAndSwap(g, next)
	return next.seq
}

// transient returns b as a string without copying. The string is valid only
// while b is (for request bytes, until the handler returns) and must not be
// retained: use it for lookups and formatting, and strings.Clone to keep it.
func transient(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
