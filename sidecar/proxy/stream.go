package proxy

import (
	"errors"
	"io"
	"sync"

	"github.com/valyala/fasthttp"
)

// errClosing interrupts the streams still open when the proxy closes.
var errClosing = errors.New("proxy closing")

// bodyStream passes an agent's streamed response body to the sidecar's
// server, which reads it after the handler has returned, writes each read
// as one chunk and flushes it, so Server-Sent Events go out as they
// arrive. It owns the agent's response: CloseWithError, called by the
// server once the body is written or the client is gone (or by the
// proxy's Close), releases it and ends the request.
type bodyStream struct {
	r    io.Reader          // the agent's body stream; Read only by the server
	resp *fasthttp.Response // the agent's response, released on close
	done func()             // ends the request: counters and registration
	once sync.Once
}

var _ fasthttp.ReadCloserWithError = (*bodyStream)(nil)

// Read implements io.Reader.
func (s *bodyStream) Read(p []byte) (int, error) { return s.r.Read(p) }

// CloseWithError closes the agent's stream (its connection is reused only
// when the body was read to the end), releases the response and ends the
// request. Only the first call acts; it is safe to call concurrently with
// Read.
func (s *bodyStream) CloseWithError(error) error {
	s.once.Do(func() {
		_ = s.resp.CloseBodyStream()
		fasthttp.ReleaseResponse(s.resp)
		s.done()
	})
	return nil
}

// interrupt unblocks a Read in progress by closing the agent's
// connection; the server then closes s. Safe for concurrent use.
func (s *bodyStream) interrupt() {
	if rc, ok := s.r.(fasthttp.ReadCloserWithError); ok {
		_ = rc.CloseWithError(errClosing)
	}
}

// streamSet tracks the open streams, so that Close can interrupt them.
// Safe for concurrent use; the zero value is empty and open.
type streamSet struct {
	mu     sync.Mutex
	m      map[*bodyStream]struct{}
	closed bool
}

// add registers s; false once the set is closed.
func (ss *streamSet) add(s *bodyStream) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		return false
	}
	if ss.m == nil {
		ss.m = map[*bodyStream]struct{}{}
	}
	ss.m[s] = struct{}{}
	return true
}

// remove unregisters s.
func (ss *streamSet) remove(s *bodyStream) {
	ss.mu.Lock()
	delete(ss.m, s)
	ss.mu.Unlock()
}

// closeAll refuses new streams and interrupts the open ones.
func (ss *streamSet) closeAll() {
	ss.mu.Lock()
	ss.closed = true
	open := make([]*bodyStream, 0, len(ss.m))
	for s := range ss.m {
		open = append(open, s)
	}
	ss.mu.Unlock()
	for _, s := range open {
		s.interrupt()
	}
}
