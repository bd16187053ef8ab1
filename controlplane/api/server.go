package api

import (
	"net/http"
	"time"
)

// Timeouts bound the time and size of what a client may send; zero fields
// mean the matching field of DefaultTimeouts.
type Timeouts struct {
	// ReadHeader bounds reading the request line and headers.
	ReadHeader time.Duration
	// Read bounds reading the whole request, body included.
	Read time.Duration
	// Write bounds the time from the end of the request headers to the end
	// of the response; it must exceed Options.ViewWait.
	Write time.Duration
	// Idle bounds how long a keep-alive connection waits for the next request.
	Idle time.Duration
	// MaxHeaderBytes bounds the request line and headers.
	MaxHeaderBytes int
}

// DefaultTimeouts returns the limits NewServer uses for zero fields.
func DefaultTimeouts() Timeouts {
	return Timeouts{
		ReadHeader:     5 * time.Second,
		Read:           30 * time.Second,
		Write:          30 * time.Second,
		Idle:           2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
	}
}

// NewServer returns an *http.Server for h on addr with t's limits. The
// caller owns it: it serves it (ListenAndServe or Serve), shuts it down, and
// may set ErrorLog (e.g. slog.NewLogLogger) before serving.
func NewServer(addr string, h http.Handler, t Timeouts) *http.Server {
	d := DefaultTimeouts()
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: orDefault(t.ReadHeader, d.ReadHeader),
		ReadTimeout:       orDefault(t.Read, d.Read),
		WriteTimeout:      orDefault(t.Write, d.Write),
		IdleTimeout:       orDefault(t.Idle, d.Idle),
		MaxHeaderBytes:    orDefault(t.MaxHeaderBytes, d.MaxHeaderBytes),
	}
}
