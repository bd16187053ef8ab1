package lookup

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/valyala/fasthttp"
)

// ServerOptions bound the sidecar's HTTP server. Zero fields take the
// values of DefaultServerOptions.
type ServerOptions struct {
	// ReadTimeout bounds reading one request, headers and body.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing one response.
	WriteTimeout time.Duration
	// IdleTimeout bounds how long a keep-alive connection waits for the
	// next request.
	IdleTimeout time.Duration
	// MaxRequestBodySize bounds request bodies (the lookup API reads none;
	// mounted routes such as the A2A proxy may); larger ones get a 413.
	MaxRequestBodySize int
	// ReadBufferSize bounds the request line and headers; larger ones get
	// a 431.
	ReadBufferSize int
	// Logger receives fasthttp's own error messages; nil discards them.
	Logger *slog.Logger
}

// DefaultServerOptions returns the limits of a loopback read API.
func DefaultServerOptions() ServerOptions {
	return ServerOptions{
		ReadTimeout:        5 * time.Second,
		WriteTimeout:       5 * time.Second,
		IdleTimeout:        60 * time.Second,
		MaxRequestBodySize: 4 << 10,
		ReadBufferSize:     8 << 10,
	}
}

// withDefaults returns o with its zero fields defaulted.
func (o ServerOptions) withDefaults() ServerOptions {
	d := DefaultServerOptions()
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = d.ReadTimeout
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = d.WriteTimeout
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = d.IdleTimeout
	}
	if o.MaxRequestBodySize <= 0 {
		o.MaxRequestBodySize = d.MaxRequestBodySize
	}
	if o.ReadBufferSize <= 0 {
		o.ReadBufferSize = d.ReadBufferSize
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// NewServer returns a fasthttp server that serves h within the bounds of
// opts. Requests fasthttp itself refuses (malformed, too large, too slow)
// are answered in the §4 error shape. The caller runs and shuts it down.
func NewServer(h *Handler, opts ServerOptions) *fasthttp.Server {
	o := opts.withDefaults()
	return &fasthttp.Server{
		Handler:                      h.Serve,
		ErrorHandler:                 serverError,
		Name:                         "sidecard",
		ReadTimeout:                  o.ReadTimeout,
		WriteTimeout:                 o.WriteTimeout,
		IdleTimeout:                  o.IdleTimeout,
		MaxRequestBodySize:           o.MaxRequestBodySize,
		ReadBufferSize:               o.ReadBufferSize,
		DisablePreParseMultipartForm: true,
		NoDefaultContentType:         true,
		Logger:                       slogPrinter{o.Logger},
	}
}

// serverError answers a request fasthttp could not read.
func serverError(ctx *fasthttp.RequestCtx, err error) {
	var small *fasthttp.ErrSmallBuffer
	var netErr net.Error
	e := newError(fasthttp.StatusBadRequest, codeInvalidArgument, "malformed request")
	switch {
	case errors.As(err, &small):
		e = newError(fasthttp.StatusRequestHeaderFieldsTooLarge, codeInvalidArgument, "request line or headers too large")
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		e = newError(fasthttp.StatusRequestEntityTooLarge, "payload_too_large", "request body too large")
	case errors.As(err, &netErr) && netErr.Timeout():
		e = newError(fasthttp.StatusRequestTimeout, codeInvalidArgument, "request not received in time")
	}
	writeError(ctx, e)
}

// slogPrinter adapts a *slog.Logger to fasthttp.Logger.
type slogPrinter struct{ l *slog.Logger }

// Printf logs fasthttp's message as a warning.
func (p slogPrinter) Printf(format string, args ...any) {
	p.l.Warn(fmt.Sprintf(format, args...), slog.String("component", "fasthttp"))
}
