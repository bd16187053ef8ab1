package proxy

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"
)

// LBPolicy names how an endpoint of an agent is chosen for a request.
type LBPolicy string

// The load-balancing policies. Both honour endpoint weights and skip
// ejected endpoints and endpoints a request has already tried.
const (
	// RoundRobin is smooth weighted round robin (the default).
	RoundRobin LBPolicy = "round_robin"
	// LeastRequest picks the endpoint with the fewest outstanding requests
	// relative to its weight; ties rotate.
	LeastRequest LBPolicy = "least_request"
)

// Defaults of Options.
const (
	DefaultConnectTimeout        = 2 * time.Second
	DefaultRequestTimeout        = 60 * time.Second
	DefaultStreamTimeout         = 10 * time.Minute
	DefaultMaxRetries            = 2
	DefaultRetryBudgetPercent    = 20
	DefaultConsecutiveErrors     = 5
	DefaultBaseEjection          = 30 * time.Second
	DefaultMaxEjection           = 5 * time.Minute
	DefaultMaxEjectionPercent    = 50
	DefaultMaxBodyBytes          = 4 << 20
	DefaultMaxConcurrentPerAgent = 1024
)

// Upper bounds that Validate enforces.
const (
	maxMaxRetries   = 10
	maxMaxBodyBytes = 64 << 20
	maxConcurrency  = 1 << 16
	maxTimeout      = 24 * time.Hour
)

// Options tune the proxy; they are the "proxy:" section of sidecar.yaml,
// hence the yaml tags. Start from DefaultOptions: the zero value is not
// valid. Every field can change at run time through Proxy.SetOptions.
type Options struct {
	// LBPolicy is round_robin (default) or least_request.
	LBPolicy LBPolicy `yaml:"lb_policy"`
	// ConnectTimeout bounds dialling an endpoint (TCP, and the TLS
	// handshake for https endpoints).
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// RequestTimeout bounds a whole proxied exchange, retries and the
	// response body included, unless the request accepts
	// text/event-stream.
	RequestTimeout time.Duration `yaml:"request_timeout"`
	// StreamTimeout replaces RequestTimeout for requests whose Accept
	// header contains text/event-stream (A2A message/stream,
	// tasks/resubscribe): a Server-Sent Events stream is cut when it ends.
	StreamTimeout time.Duration `yaml:"stream_timeout"`
	// MaxRetries bounds the retries of one request (0 disables retries).
	MaxRetries int `yaml:"max_retries"`
	// RetryBudgetPercent caps retries of an agent at this percentage of its
	// requests over the last 10 s, plus 3 retries per second.
	RetryBudgetPercent int `yaml:"retry_budget_percent"`
	// Outlier configures passive outlier ejection.
	Outlier OutlierOptions `yaml:"outlier"`
	// MaxBodyBytes bounds request bodies; larger ones get a 413.
	MaxBodyBytes int `yaml:"max_body_bytes"`
	// MaxConcurrentPerAgent bounds the requests (streams included) in
	// flight to one agent through this sidecar; more get a 429.
	MaxConcurrentPerAgent int `yaml:"max_concurrent_per_agent"`
	// AdvertiseAddr is the host:port put in rewritten agent cards when the
	// client did not reach the sidecar on a loopback address; "" means the
	// local address of the client's connection.
	AdvertiseAddr string `yaml:"advertise_addr"`
}

// OutlierOptions configure passive outlier ejection: an endpoint that
// fails ConsecutiveErrors times in a row (connect errors, other transport
// errors, 5xx responses) is ejected for BaseEjection × the number of times
// it has been ejected, at most MaxEjection.
type OutlierOptions struct {
	// ConsecutiveErrors is the number of failures in a row that eject an
	// endpoint; 0 disables ejection.
	ConsecutiveErrors int `yaml:"consecutive_errors"`
	// BaseEjection is the duration of a first ejection.
	BaseEjection time.Duration `yaml:"base_ejection"`
	// MaxEjection caps the duration of one ejection.
	MaxEjection time.Duration `yaml:"max_ejection"`
	// MaxEjectionPercent caps the share of an agent's endpoints ejected at
	// once, unless every endpoint is failing.
	MaxEjectionPercent int `yaml:"max_ejection_percent"`
}

// DefaultOptions returns the options used for every key the config does
// not set.
func DefaultOptions() Options {
	return Options{
		LBPolicy:       RoundRobin,
		ConnectTimeout: DefaultConnectTimeout,
		RequestTimeout: DefaultRequestTimeout,
		StreamTimeout:  DefaultStreamTimeout,
		MaxRetries:     DefaultMaxRetries,

		RetryBudgetPercent: DefaultRetryBudgetPercent,
		Outlier: OutlierOptions{
			ConsecutiveErrors:  DefaultConsecutiveErrors,
			BaseEjection:       DefaultBaseEjection,
			MaxEjection:        DefaultMaxEjection,
			MaxEjectionPercent: DefaultMaxEjectionPercent,
		},
		MaxBodyBytes:          DefaultMaxBodyBytes,
		MaxConcurrentPerAgent: DefaultMaxConcurrentPerAgent,
	}
}

// Validate reports every problem of o joined, each prefixed by its YAML
// key ("outlier.base_ejection: ..."). It does not modify o.
func (o Options) Validate() error {
	var errs []error
	check := func(key string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", key, err))
		}
	}
	if o.LBPolicy != RoundRobin && o.LBPolicy != LeastRequest {
		check("lb_policy", fmt.Errorf("%q: want %s or %s", o.LBPolicy, RoundRobin, LeastRequest))
	}
	check("connect_timeout", within(o.ConnectTimeout, time.Millisecond, maxTimeout))
	check("request_timeout", within(o.RequestTimeout, time.Millisecond, maxTimeout))
	check("stream_timeout", within(o.StreamTimeout, time.Millisecond, maxTimeout))
	check("max_retries", within(o.MaxRetries, 0, maxMaxRetries))
	check("retry_budget_percent", within(o.RetryBudgetPercent, 0, 100))
	check("outlier.consecutive_errors", within(o.Outlier.ConsecutiveErrors, 0, 1000))
	check("outlier.base_ejection", within(o.Outlier.BaseEjection, time.Millisecond, maxTimeout))
	check("outlier.max_ejection", within(o.Outlier.MaxEjection, o.Outlier.BaseEjection, maxTimeout))
	check("outlier.max_ejection_percent", within(o.Outlier.MaxEjectionPercent, 0, 100))
	check("max_body_bytes", within(o.MaxBodyBytes, 1, maxMaxBodyBytes))
	check("max_concurrent_per_agent", within(o.MaxConcurrentPerAgent, 1, maxConcurrency))
	if o.AdvertiseAddr != "" {
		check("advertise_addr", validAdvertise(o.AdvertiseAddr))
	}
	return errors.Join(errs...)
}

// within checks lo <= v <= hi.
func within[T int | time.Duration](v, lo, hi T) error {
	if v < lo || v > hi {
		return fmt.Errorf("%v is out of range [%v, %v]", v, lo, hi)
	}
	return nil
}

// validAdvertise checks a host:port with a host and a non-zero port.
func validAdvertise(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return fmt.Errorf("%q is not host:port", addr)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return fmt.Errorf("%q: bad port", addr)
	}
	return nil
}

// eventStream is what an Accept header holds when the client wants a
// Server-Sent Events stream.
var eventStream = []byte("text/event-stream")

// timeout returns the deadline budget of a request with Accept header
// accept.
func (o *Options) timeout(accept []byte) time.Duration {
	if bytes.Contains(accept, eventStream) {
		return o.StreamTimeout
	}
	return o.RequestTimeout
}
