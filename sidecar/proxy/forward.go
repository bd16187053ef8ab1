package proxy

import (
	"bytes"
	"errors"
	"io"
	"net"
	"slices"
	"time"

	"github.com/valyala/fasthttp"
)

// inlineBodyMax is the largest response body of known length that is
// copied into the response before the handler returns; longer bodies,
// bodies of unknown length and event streams are streamed.
const inlineBodyMax = 64 << 10

var mimeEventStream = []byte("text/event-stream")

// failure classifies a failed attempt.
type failure int

const (
	failConnect   failure = iota // nothing was sent: dial error, no free connection
	failTimeout                  // the request's deadline passed
	failTransport                // the connection broke before a response
	failResponse                 // the agent's response was unreadable
)

// forward sends the request to endpoints of a, retrying as the options
// allow, and answers ctx with the first response or an error. It ends the
// request admitted by a.tryAcquire: at once, or when a streamed response
// closes.
func (p *Proxy) forward(ctx *fasthttp.RequestCtx, a *agent, o *Options, rest []byte) {
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	var ipBuf [64]byte
	clientIP, _ := ctx.RemoteIP().AppendText(ipBuf[:0])
	req.Header.SetMethodBytes(ctx.Method())
	copyRequestHeaders(&req.Header, &ctx.Request.Header, clientIP)
	req.SetBodyRaw(ctx.Request.Body()) // ctx's bytes: req is released before Serve returns

	v := a.view.Load()
	start := time.Now()
	deadline := start.Add(o.timeout(ctx.Request.Header.PeekBytes(hdrAccept)))
	a.budget.request(p.now())
	var (
		tried   triedSet
		lastErr error
		buf     [256]byte
	)
	for attempt := 0; ; attempt++ {
		i := a.pick(v, o.LBPolicy, &tried, p.now())
		if i < 0 {
			break
		}
		tried.add(i)
		ep := v.eps[i]
		req.SetRequestURIBytes(ep.appendTarget(buf[:0], rest, ctx.URI().QueryString()))
		req.Header.SetHost(ep.host)
		resp := fasthttp.AcquireResponse()
		ep.outstanding.Add(1)
		err := ep.client.DoDeadline(req, resp, deadline)
		if err == nil {
			a.m.upstream.Observe(time.Since(start).Seconds())
			p.outcome(a, v, ep, resp.StatusCode() >= 500, o)
			p.respond(ctx, a, ep, resp)
			return
		}
		ep.outstanding.Add(-1)
		fasthttp.ReleaseResponse(resp)
		lastErr = err
		p.outcome(a, v, ep, true, o)
		if !p.retryable(ctx, a, o, err, attempt, deadline) {
			break
		}
		a.m.retries.Inc()
	}
	if lastErr != nil {
		a.m.upstream.Observe(time.Since(start).Seconds())
	}
	a.release()
	failed(ctx, a.name, lastErr)
}

// retryable reports whether a request may try another endpoint after err
// on attempt (0 is the first): within max_retries and the deadline, when
// nothing was sent (any method) or the connection broke before a response
// (idempotent methods only), and within the agent's retry budget.
func (p *Proxy) retryable(ctx *fasthttp.RequestCtx, a *agent, o *Options, err error, attempt int, deadline time.Time) bool {
	if attempt >= o.MaxRetries || !time.Now().Before(deadline) {
		return false
	}
	switch classify(err) {
	case failConnect:
	case failTransport:
		if !idempotent(ctx.Method()) {
			return false
		}
	default:
		return false
	}
	return a.budget.tryRetry(p.now(), o.RetryBudgetPercent)
}

// idempotent reports whether method may be sent twice (RFC 9110 §9.2.2).
func idempotent(method []byte) bool {
	switch string(method) {
	case fasthttp.MethodGet, fasthttp.MethodHead, fasthttp.MethodOptions, fasthttp.MethodPut, fasthttp.MethodDelete:
		return true
	}
	return false
}

// classify sorts the error of an attempt.
func classify(err error) failure {
	var de *dialError
	var ne net.Error
	switch {
	case errors.As(err, &de) || errors.Is(err, fasthttp.ErrNoFreeConns):
		return failConnect
	case errors.Is(err, fasthttp.ErrTimeout) || (errors.As(err, &ne) && ne.Timeout()):
		return failTimeout
	case errors.Is(err, fasthttp.ErrConnectionClosed) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, new(*net.OpError)):
		return failTransport
	}
	return failResponse
}

// failed answers ctx after every attempt failed; err is the last error,
// nil when no endpoint was available.
func failed(ctx *fasthttp.RequestCtx, name string, err error) {
	switch {
	case err == nil:
		writeError(ctx, fasthttp.StatusServiceUnavailable, codeUnavailable,
			"no endpoint of %q is available: all are ejected or none is registered", name)
	case classify(err) == failConnect:
		writeError(ctx, fasthttp.StatusServiceUnavailable, codeUnavailable, "no endpoint of %q could be reached: %v", name, err)
	case classify(err) == failTimeout:
		writeError(ctx, fasthttp.StatusGatewayTimeout, codeGatewayTimeout, "%q did not answer in time", name)
	default:
		writeError(ctx, fasthttp.StatusBadGateway, codeBadGateway, "%q failed to answer: %v", name, err)
	}
}

// outcome records an attempt's result in ep's passive health.
func (p *Proxy) outcome(a *agent, v *view, ep *endpoint, failed bool, o *Options) {
	if a.observe(v, ep, failed, p.now(), &o.Outlier) {
		a.m.ejections.Inc()
		p.log.Warn("proxy: endpoint ejected", "agent", a.name, "endpoint", ep.url,
			"consecutive_errors", o.Outlier.ConsecutiveErrors)
	}
}

// respond answers ctx with the agent's response resp, which it takes
// over: small bodies of known length are copied now, others are streamed
// after the handler returns.
func (p *Proxy) respond(ctx *fasthttp.RequestCtx, a *agent, ep *endpoint, resp *fasthttp.Response) {
	ctx.SetStatusCode(resp.StatusCode())
	copyResponseHeaders(&ctx.Response.Header, &resp.Header)
	body, n := resp.BodyStream(), resp.Header.ContentLength()
	switch {
	case body == nil:
		ctx.Response.SetBody(resp.Body())
	case n >= 0 && n <= inlineBodyMax && !bytes.HasPrefix(resp.Header.ContentType(), mimeEventStream):
		if err := readBody(&ctx.Response, body, n); err != nil {
			writeError(ctx, fasthttp.StatusBadGateway, codeBadGateway, "%q failed to answer: %v", a.name, err)
		}
	default:
		p.stream(ctx, a, ep, resp, body, n)
		return
	}
	_ = resp.CloseBodyStream()
	fasthttp.ReleaseResponse(resp)
	finish(a, ep)
}

// readBody reads the n bytes of body into dst's body buffer, which it
// grows as needed (the buffer is pooled by fasthttp, so this rarely
// allocates).
func readBody(dst *fasthttp.Response, body io.Reader, n int) error {
	b := dst.SwapBody(nil)
	b = slices.Grow(b[:0], n)[:n]
	_, err := io.ReadFull(body, b)
	dst.SwapBody(b)
	return err
}

// finish ends a forwarded request once its response is complete.
func finish(a *agent, ep *endpoint) {
	ep.outstanding.Add(-1)
	a.release()
}

// stream hands the agent's body over to the server as a stream of length
// n (< 0: unknown, sent chunked), flushed after every read.
func (p *Proxy) stream(ctx *fasthttp.RequestCtx, a *agent, ep *endpoint, resp *fasthttp.Response, body io.Reader, n int) {
	s := &bodyStream{r: body, resp: resp}
	s.done = func() {
		p.streams.remove(s)
		finish(a, ep)
	}
	if !p.streams.add(s) {
		_ = s.CloseWithError(errClosing)
		writeError(ctx, fasthttp.StatusServiceUnavailable, codeUnavailable, "the sidecar is shutting down")
		return
	}
	ctx.Response.ImmediateHeaderFlush = true
	ctx.Response.SetBodyStream(s, max(n, -1))
}
