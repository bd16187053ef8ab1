package proxy

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"github.com/sidecard/sidecard/cache"
)

// Source gives the replica the proxy routes by. *cache.Replica implements
// it.
type Source interface {
	// Load returns the current snapshot; never nil.
	Load() *cache.Snapshot
	// Subscribe returns a 1-slot channel signalled after each change and a
	// cancel func, as cache.Replica documents.
	Subscribe() (<-chan struct{}, func())
}

var _ Source = (*cache.Replica)(nil)

// Deps are what the proxy is wired with; only Source is required.
type Deps struct {
	// Source is the replica.
	Source Source
	// Registerer receives the proxy's metrics; nil registers none.
	Registerer prometheus.Registerer
	// Logger receives ejections; nil discards.
	Logger *slog.Logger
	// Now is the clock of outlier ejection and the retry budget; nil means
	// time.Now. Upstream deadlines always use the real clock.
	Now func() time.Time
	// TLSConfig is the base TLS configuration for https endpoints (root
	// CAs, client certificates); nil means the system roots. ServerName is
	// set per endpoint.
	TLSConfig *tls.Config
}

// Proxy forwards /a2a/{name}/... to the endpoints of registered agents
// and serves their rewritten cards (see the package comment).
//
// A Proxy is safe for concurrent use. The zero value is not usable; use
// New. Run keeps its connection pools in line with the replica; Close
// ends it.
type Proxy struct {
	src       Source
	log       *slog.Logger
	now       func() time.Time
	opts      atomic.Pointer[Options]
	overrides atomic.Pointer[Overrides] // nil: none
	agents    *agentTable
	metrics   *metrics
	streams   streamSet
	closed    atomic.Bool
}

// New returns a proxy with opts, which must pass Validate, and registers
// its metrics with deps.Registerer.
func New(opts Options, deps Deps) (*Proxy, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("proxy options: %w", err)
	}
	if deps.Source == nil {
		return nil, errors.New("proxy: Source is required")
	}
	p := &Proxy{src: deps.Source, log: deps.Logger, now: deps.Now}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.now == nil {
		p.now = time.Now
	}
	p.opts.Store(&opts)
	var err error
	if p.metrics, err = newMetrics(deps.Registerer, p.openConns); err != nil {
		return nil, err
	}
	dial := newDialer(func() time.Duration { return p.opts.Load().ConnectTimeout }, deps.TLSConfig)
	build := func(url string) (*endpoint, error) {
		return newEndpoint(url, dial, p.opts.Load().MaxConcurrentPerAgent)
	}
	p.agents = newAgentTable(build, p.metrics, p.log)
	return p, nil
}

// Options returns the options in effect.
func (p *Proxy) Options() Options { return *p.opts.Load() }

// SetOptions validates opts and puts them in effect for the requests that
// start from then on; requests in flight keep the options they started
// with. On error nothing changes.
func (p *Proxy) SetOptions(opts Options) error {
	if err := opts.Validate(); err != nil {
		return fmt.Errorf("proxy options: %w", err)
	}
	p.opts.Store(&opts)
	p.agents.each(func(a *agent) {
		for _, ep := range a.view.Load().eps {
			ep.client.SetMaxConns(opts.MaxConcurrentPerAgent)
		}
	})
	return nil
}

// Run keeps the agents' connection pools in line with the replica until
// ctx is done (SetOverrides does it for the overrides): the pools of
// endpoints and agents that left it are closed and their metric children
// deleted. It returns nil when ctx is done.
func (p *Proxy) Run(ctx context.Context) error {
	changed, cancel := p.src.Subscribe()
	defer cancel()
	for {
		p.agents.sync(p.routes)
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		}
	}
}

// routes returns what requests route by now.
func (p *Proxy) routes() routes {
	return routes{ix: p.src.Load().Index(), ov: p.overrides.Load()}
}

// Close interrupts the streamed responses still open and closes the idle
// connections; requests that arrive afterwards get a 503. Call it when the
// sidecar shuts down, before the server's Shutdown so that long streams
// do not hold it up.
func (p *Proxy) Close() {
	p.closed.Store(true)
	p.streams.closeAll()
	p.agents.closeAll()
}

// RequestConfig is a fasthttp.Server HeaderReceived hook: for requests
// under Prefix it allows bodies of max_body_bytes and gives the response
// as long to be written as the request's timeout (a stream may last that
// long); other requests keep the server's limits. The sidecar's server
// must use it, or bodies are bounded by the server's own limit.
func (p *Proxy) RequestConfig(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	if !bytes.HasPrefix(requestPath(h.RequestURI()), prefixBytes) {
		return fasthttp.RequestConfig{}
	}
	o := p.opts.Load()
	return fasthttp.RequestConfig{
		MaxRequestBodySize: o.MaxBodyBytes,
		WriteTimeout:       o.timeout(h.PeekBytes(hdrAccept)),
	}
}

// requestPath returns the path of a request-target in origin form
// ("/p?q") or absolute form ("http://h/p?q").
func requestPath(uri []byte) []byte {
	if len(uri) > 0 && uri[0] != '/' {
		if i := bytes.Index(uri, []byte("://")); i >= 0 {
			uri = uri[i+3:]
			if j := bytes.IndexByte(uri, '/'); j >= 0 {
				uri = uri[j:]
			} else {
				uri = nil
			}
		}
	}
	if i := bytes.IndexByte(uri, '?'); i >= 0 {
		uri = uri[:i]
	}
	return uri
}

// openConns yields the open connections of every agent, for the
// sidecard_proxy_open_connections gauge.
func (p *Proxy) openConns(yield func(agent string, n int)) {
	p.agents.each(func(a *agent) {
		n := 0
		for _, ep := range a.view.Load().eps {
			n += ep.client.ConnsCount()
		}
		yield(a.name, n)
	})
}
