package proxy

import (
	"github.com/valyala/fasthttp"
)

// Serve answers one request under Prefix; it is a fasthttp.RequestHandler
// to mount on the sidecar's server. The agent is named by the path as the
// client sent it (never by the Host header or an absolute-form URI), and
// only that agent's endpoints are dialled. Serve keeps nothing of ctx
// once it returns: a streamed response holds the agent's response, not
// ctx.
func (p *Proxy) Serve(ctx *fasthttp.RequestCtx) {
	if p.closed.Load() {
		writeError(ctx, fasthttp.StatusServiceUnavailable, codeUnavailable, "the sidecar is shutting down")
		return
	}
	name, rest, err := splitTarget(ctx.URI().PathOriginal())
	switch {
	case err == errNotProxied:
		writeError(ctx, fasthttp.StatusNotFound, codeNotFound, "no route for %q; use %s{name}/...", ctx.Path(), Prefix)
		return
	case err != nil:
		writeError(ctx, fasthttp.StatusBadRequest, codeInvalidArgument, "%v", err)
		return
	}
	r := p.routes()
	e, ok := r.lookup(transient(name))
	var a *agent
	if ok {
		a = p.agents.get(e, r)
	}
	if a == nil {
		writeError(ctx, fasthttp.StatusNotFound, codeNotFound, "no agent named %q", name)
		return
	}
	if isCardPath(rest) {
		// The registry's card, even when the endpoints are overridden.
		reg, registered := r.ix.Get(transient(name))
		if !registered {
			writeError(ctx, fasthttp.StatusNotFound, codeNotFound,
				"%q is a local override with no registered card", name)
		} else {
			p.serveCard(ctx, a, reg)
		}
	} else {
		p.admit(ctx, a, rest)
	}
	a.m.request(ctx.Response.StatusCode())
}

// admit applies the per-request limits, then forwards.
func (p *Proxy) admit(ctx *fasthttp.RequestCtx, a *agent, rest []byte) {
	o := p.opts.Load()
	if n := len(ctx.Request.Body()); n > o.MaxBodyBytes {
		writeError(ctx, fasthttp.StatusRequestEntityTooLarge, codePayloadTooLarge,
			"request body of %d bytes is over the limit of %d", n, o.MaxBodyBytes)
		return
	}
	if !a.tryAcquire(o.MaxConcurrentPerAgent) {
		writeError(ctx, fasthttp.StatusTooManyRequests, codeTooManyRequests,
			"%d requests to %q are in flight through this sidecar, the limit", o.MaxConcurrentPerAgent, a.name)
		ctx.Response.Header.Set("Retry-After", "1")
		return
	}
	p.forward(ctx, a, o, rest)
}
