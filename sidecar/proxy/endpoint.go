package proxy

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// Connection pool settings of every endpoint.
const (
	// idleConnTimeout closes keep-alive connections idle this long: below
	// the 5 s keep-alive of common agent servers (uvicorn, Node), so the
	// proxy rarely sends a request on a connection the agent is closing.
	idleConnTimeout = 4 * time.Second
	// readBufferSize bounds the response headers of an agent.
	readBufferSize = 16 << 10
)

// endpoint is one endpoint of an agent with its keep-alive pool. Its
// target fields are immutable; outstanding is atomic; the outlier fields
// are guarded by the mu of the agent that owns it.
type endpoint struct {
	url      string // as registered
	tls      bool
	host     string // host[:port] as in the URL: the Host header sent
	hostPort string // host:port dialled, the port defaulted from the scheme
	basePath string // escaped path of the URL without a trailing "/"
	query    string // raw query of the URL, "" when none
	client   *fasthttp.HostClient

	outstanding atomic.Int64 // requests sent and not yet answered in full

	// Passive health, guarded by agent.mu.
	consecutive  int       // failures in a row
	ejections    int       // the ejection multiplier
	ejectedUntil time.Time // ejected while now is before it
	decayFrom    time.Time // the multiplier drops by one per base_ejection healthy since
}

// dialFunc dials addr within timeout; tls says whether to complete a TLS
// handshake too.
type dialFunc func(addr string, useTLS bool, serverName string, timeout time.Duration) (net.Conn, error)

// newEndpoint parses rawURL (an absolute http(s) URL, as the registry
// validates endpoints) and builds its pool. No connection is made until
// the first request. maxConns bounds the pool.
func newEndpoint(rawURL string, dial dialFunc, maxConns int) (*endpoint, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("endpoint %q: %w", rawURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return nil, fmt.Errorf("endpoint %q: not an absolute http(s) URL", rawURL)
	}
	ep := &endpoint{
		url:      rawURL,
		tls:      u.Scheme == "https",
		host:     u.Host,
		basePath: strings.TrimSuffix(u.EscapedPath(), "/"),
		query:    u.RawQuery,
	}
	port := u.Port()
	switch {
	case port != "":
	case ep.tls:
		port = "443"
	default:
		port = "80"
	}
	ep.hostPort = net.JoinHostPort(u.Hostname(), port)
	serverName := u.Hostname()
	ep.client = &fasthttp.HostClient{
		Addr:  ep.hostPort,
		IsTLS: ep.tls,
		DialTimeout: func(addr string, timeout time.Duration) (net.Conn, error) {
			return dial(addr, ep.tls, serverName, timeout)
		},
		MaxConns:                  maxConns,
		MaxIdleConnDuration:       idleConnTimeout,
		MaxIdemponentCallAttempts: 1, // the proxy retries itself, on another endpoint
		RetryIfErr:                func(*fasthttp.Request, int, error) (bool, bool) { return false, false },
		ReadBufferSize:            readBufferSize,
		ConnPoolStrategy:          fasthttp.LIFO,
		NoDefaultUserAgentHeader:  true,
		DisablePathNormalizing:    true,
		StreamResponseBody:        true,
	}
	return ep, nil
}

// appendTarget appends the absolute URL of a request for rest (the raw
// path after /a2a/{name}, "" or starting with "/") and query (raw, may be
// empty) on ep: the endpoint's path, then rest, then the endpoint's query
// and the request's joined by "&".
func (ep *endpoint) appendTarget(dst, rest, query []byte) []byte {
	if ep.tls {
		dst = append(dst, "https://"...)
	} else {
		dst = append(dst, "http://"...)
	}
	dst = append(dst, ep.host...)
	dst = append(dst, ep.basePath...)
	dst = append(dst, rest...)
	if len(ep.basePath) == 0 && len(rest) == 0 {
		dst = append(dst, '/')
	}
	switch {
	case ep.query != "" && len(query) > 0:
		dst = append(append(append(append(dst, '?'), ep.query...), '&'), query...)
	case ep.query != "":
		dst = append(append(dst, '?'), ep.query...)
	case len(query) > 0:
		dst = append(append(dst, '?'), query...)
	}
	return dst
}

// ejected reports whether ep is ejected at now. Called with agent.mu held.
func (ep *endpoint) ejected(now time.Time) bool { return now.Before(ep.ejectedUntil) }

// close closes the idle connections of ep's pool; connections in use are
// closed by the pool's cleaner once released and idle.
func (ep *endpoint) close() { ep.client.CloseIdleConnections() }

// dialError marks a failure to connect: nothing of the request was sent,
// so it is safe to retry whatever the method.
type dialError struct {
	addr string
	err  error
}

func (e *dialError) Error() string { return fmt.Sprintf("connect to %s: %v", e.addr, e.err) }
func (e *dialError) Unwrap() error { return e.err }

// newDialer returns the dialFunc of a proxy: TCP within the smaller of
// timeout and connectTimeout(), then for https a TLS handshake with base
// (nil: system roots) within the same deadline. Errors are *dialError.
func newDialer(connectTimeout func() time.Duration, base *tls.Config) dialFunc {
	return func(addr string, useTLS bool, serverName string, timeout time.Duration) (net.Conn, error) {
		d := connectTimeout()
		if timeout > 0 && timeout < d {
			d = timeout
		}
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		var nd net.Dialer
		conn, err := nd.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, &dialError{addr: addr, err: err}
		}
		if !useTLS {
			return conn, nil
		}
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if base != nil {
			cfg = base.Clone()
		}
		cfg.ServerName = serverName
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, &dialError{addr: addr, err: err}
		}
		return tc, nil
	}
}
