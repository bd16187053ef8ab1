package register

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Defaults of Options and ClientOptions.
const (
	// DefaultTTL is the lease of an agent that registers without
	// ttl_seconds.
	DefaultTTL = 30 * time.Second
	// DefaultHealthPath is checked on an agent's first endpoint: its A2A
	// agent card.
	DefaultHealthPath = "/.well-known/agent-card.json"
	// DefaultHealthInterval is the time between two health checks.
	DefaultHealthInterval = 5 * time.Second
	// DefaultFailureThreshold is the number of failed checks in a row
	// after which an agent is deregistered.
	DefaultFailureThreshold = 3
	// DefaultHealthTimeout bounds one health check (and never exceeds the
	// interval).
	DefaultHealthTimeout = 2 * time.Second
	// DefaultHTTPPort is the port of a control plane's HTTP API when its
	// address is derived from its xDS address.
	DefaultHTTPPort = "18080"
	// DefaultAttemptTimeout bounds one request to one control plane.
	DefaultAttemptTimeout = 3 * time.Second
	// DefaultAttempts bounds the requests of one call, across addresses.
	DefaultAttempts = 4
	// DefaultBackoff is the wait before the second attempt; it doubles up
	// to maxBackoff.
	DefaultBackoff = 100 * time.Millisecond
	// DefaultShutdownTimeout bounds the deregistrations of a clean
	// shutdown.
	DefaultShutdownTimeout = 5 * time.Second
	// MaxBodyBytes bounds the body of PUT /v1/agents/{name} on the sidecar,
	// as the control plane bounds entries.
	MaxBodyBytes = 2 << 20

	maxBackoff       = 2 * time.Second
	maxTTL           = 24 * time.Hour
	minHealthPeriod  = 10 * time.Millisecond
	maxFailures      = 100
	maxHealthPathLen = 1024
)

// Options tune registration through the sidecar; they are the "register:"
// section of sidecar.yaml, hence the yaml tags. Start from DefaultOptions:
// the zero value is not valid. Changing them needs a restart.
type Options struct {
	// TTL is the ttl_seconds the sidecar sets on an agent that registers
	// without one; the lease is renewed every third of the entry's TTL
	// while the agent's health check passes. Whole seconds, at least 1 s.
	TTL time.Duration `yaml:"ttl"`
	// HealthPath is the path of the health check, an HTTP GET on the
	// origin of the agent's first endpoint; 2xx passes.
	HealthPath string `yaml:"health_path"`
	// HealthInterval is the time between two health checks of an agent.
	HealthInterval time.Duration `yaml:"health_interval"`
	// FailureThreshold is how many checks in a row must fail for the agent
	// to be deregistered; it is registered again at its next passing check.
	FailureThreshold int `yaml:"failure_threshold"`
}

// DefaultOptions returns the defaults.
func DefaultOptions() Options {
	return Options{
		TTL:              DefaultTTL,
		HealthPath:       DefaultHealthPath,
		HealthInterval:   DefaultHealthInterval,
		FailureThreshold: DefaultFailureThreshold,
	}
}

// Validate reports every problem of o, each naming its key. It does not
// modify o.
func (o Options) Validate() error {
	var errs []error
	if o.TTL < time.Second || o.TTL > maxTTL || o.TTL%time.Second != 0 {
		errs = append(errs, fmt.Errorf("ttl: %v: want whole seconds from 1s to %v", o.TTL, maxTTL))
	}
	if !strings.HasPrefix(o.HealthPath, "/") || len(o.HealthPath) > maxHealthPathLen ||
		strings.ContainsAny(o.HealthPath, " \t\r\n#") {
		errs = append(errs, fmt.Errorf("health_path: %q: want an absolute URL path", o.HealthPath))
	}
	if o.HealthInterval < minHealthPeriod || o.HealthInterval > maxTTL {
		errs = append(errs, fmt.Errorf("health_interval: %v: want %v to %v", o.HealthInterval, minHealthPeriod, maxTTL))
	}
	if o.FailureThreshold < 1 || o.FailureThreshold > maxFailures {
		errs = append(errs, fmt.Errorf("failure_threshold: %d: want 1 to %d", o.FailureThreshold, maxFailures))
	}
	return errors.Join(errs...)
}

// healthTimeout bounds one health check.
func (o Options) healthTimeout() time.Duration { return min(o.HealthInterval, DefaultHealthTimeout) }

// HTTPAddresses returns the control-plane HTTP API addresses to use: the
// explicit ones when there are any, else one per distinct host of the xDS
// addresses, on DefaultHTTPPort. The slice is new.
func HTTPAddresses(explicit, xds []string) []string {
	if len(explicit) > 0 {
		return append([]string(nil), explicit...)
	}
	var out []string
	seen := map[string]bool{}
	for _, a := range xds {
		host, _, err := net.SplitHostPort(a)
		if err != nil {
			continue // Config.Validate refuses it
		}
		if addr := net.JoinHostPort(host, DefaultHTTPPort); !seen[addr] {
			seen[addr] = true
			out = append(out, addr)
		}
	}
	return out
}

// ValidateHTTPAddress checks a control-plane HTTP API address: host:port,
// or an http(s) URL with a host and no path, query or fragment.
func ValidateHTTPAddress(a string) error {
	if strings.Contains(a, "://") {
		u, err := url.Parse(a)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return fmt.Errorf("%q: want host:port or http(s)://host:port", a)
		}
		return nil
	}
	host, port, err := net.SplitHostPort(a)
	if err != nil || host == "" {
		return fmt.Errorf("%q: want host:port or http(s)://host:port", a)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return fmt.Errorf("%q: bad port", a)
	}
	return nil
}

// baseURL returns the URL prefix of a validated address.
func baseURL(a string) string {
	if strings.Contains(a, "://") {
		return strings.TrimRight(a, "/")
	}
	return "http://" + a
}
