package envoy

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Options shape the generated resources. The zero value is not valid: start
// from DefaultOptions.
type Options struct {
	// ListenerAddress is the IP address Envoy's HTTP listener binds.
	ListenerAddress string
	// ListenerPort is the HTTP listener's port, 1 to 65535.
	ListenerPort uint32
	// ConnectTimeout bounds a connection to an agent endpoint; > 0.
	ConnectTimeout time.Duration
	// RequestTimeout is Envoy's route timeout for a whole request and
	// response; 0 disables it (Envoy's own default, 15 s, cuts A2A streams
	// and long tasks). grpc-go ignores it.
	RequestTimeout time.Duration
	// UpstreamTLS makes Envoy originate TLS to agents whose endpoints are
	// https. grpc-go refuses such clusters (see the package comment).
	UpstreamTLS bool
	// TrustedCAFile, when set, is a PEM bundle on the Envoy host against
	// which agent certificates are verified, their SAN against the SNI.
	// Requires UpstreamTLS.
	TrustedCAFile string
}

// DefaultOptions returns the defaults: listener 0.0.0.0:10000, connect
// timeout 5 s, no request timeout, upstream TLS without verification.
func DefaultOptions() Options {
	return Options{
		ListenerAddress: "0.0.0.0",
		ListenerPort:    10000,
		ConnectTimeout:  5 * time.Second,
		UpstreamTLS:     true,
	}
}

// Validate checks o without modifying it.
func (o Options) Validate() error {
	if _, err := netip.ParseAddr(o.ListenerAddress); err != nil {
		return fmt.Errorf("envoy options: listener address %q: must be an IP address", o.ListenerAddress)
	}
	if o.ListenerPort == 0 || o.ListenerPort > 65535 {
		return fmt.Errorf("envoy options: listener port %d: must be from 1 to 65535", o.ListenerPort)
	}
	if o.ConnectTimeout <= 0 {
		return fmt.Errorf("envoy options: connect timeout %s: must be positive", o.ConnectTimeout)
	}
	if o.RequestTimeout < 0 {
		return fmt.Errorf("envoy options: request timeout %s: must not be negative", o.RequestTimeout)
	}
	if o.TrustedCAFile != "" && !o.UpstreamTLS {
		return errors.New("envoy options: a trusted CA file needs upstream TLS")
	}
	return nil
}
