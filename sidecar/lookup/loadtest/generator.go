package loadtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Bounds of a run, whatever its config asks.
const (
	maxDuration = 30 * time.Second
	maxRequests = 5_000_000
	dialTimeout = time.Second
	ioTimeout   = 5 * time.Second
)

// Config is one load run. Each connection cycles through Requests from its
// own offset: connection i of n starts at request i×len(Requests)/n, so a
// run sending fewer than len(Requests) requests sends each at most once.
type Config struct {
	// Addr is a loopback host:port.
	Addr string
	// Requests are complete HTTP/1.1 requests (see GET). At least one.
	Requests [][]byte
	// Conns is the number of keep-alive connections, each driven by one
	// goroutine; at least 1.
	Conns int
	// Duration bounds the measured part of the run, at most 30 s.
	Duration time.Duration
	// Warmup runs before the measurement and is not counted.
	Warmup time.Duration
	// Rate, when > 0, makes the run open-loop: requests are scheduled at
	// Rate per second in total and latency is measured from the scheduled
	// time, so a server that falls behind is charged for the wait.
	// 0 runs closed-loop: each connection sends as soon as it has read
	// the previous response.
	Rate float64
	// MaxRequests bounds the measured requests, at most 5 000 000.
	MaxRequests int
}

// validate checks c and returns it with its bounds applied.
func (c Config) validate() (Config, error) {
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return c, fmt.Errorf("load config: address %q: %w", c.Addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return c, fmt.Errorf("load config: address %q is not loopback", c.Addr)
	}
	switch {
	case len(c.Requests) == 0:
		return c, errors.New("load config: no requests")
	case c.Conns < 1:
		return c, errors.New("load config: Conns must be at least 1")
	case c.Duration <= 0:
		return c, errors.New("load config: Duration must be positive")
	case c.Rate < 0:
		return c, errors.New("load config: Rate must not be negative")
	}
	c.Duration = min(c.Duration, maxDuration)
	c.Warmup = min(max(c.Warmup, 0), maxDuration)
	if c.MaxRequests <= 0 || c.MaxRequests > maxRequests {
		c.MaxRequests = maxRequests
	}
	return c, nil
}

// GET returns the bytes of a keep-alive HTTP/1.1 GET of target (a path and
// query) with extra header lines ("If-None-Match: \"3\"").
func GET(target string, headers ...string) []byte {
	b := fmt.Appendf(nil, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: sidecard-loadtest\r\n", target)
	for _, h := range headers {
		b = fmt.Appendf(b, "%s\r\n", h)
	}
	return append(b, "\r\n"...)
}

// Run runs c against its address and returns the measurement. It stops
// early when ctx is done; connection or protocol errors end the affected
// connection and are counted, the first one returned in Result.Err.
func Run(ctx context.Context, c Config) (Result, error) {
	c, err := c.validate()
	if err != nil {
		return Result{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.Warmup+c.Duration+ioTimeout)
	defer cancel()
	start := time.Now().Add(c.Warmup)
	end := start.Add(c.Duration)
	budget := newBudget(c.MaxRequests)
	workers := make([]*worker, c.Conns)
	var wg sync.WaitGroup
	for i := range workers {
		workers[i] = &worker{cfg: c, id: i, start: start, end: end, budget: budget}
		wg.Add(1)
		go func() {
			defer wg.Done()
			workers[i].run(ctx)
		}()
	}
	wg.Wait()
	return merge(workers, start, end), nil
}

// budget hands out the measured requests of a run; safe for concurrent use.
type budget struct{ left atomic.Int64 }

func newBudget(n int) *budget {
	b := &budget{}
	b.left.Store(int64(n))
	return b
}

// take reports whether one more measured request may be sent.
func (b *budget) take() bool { return b.left.Add(-1) >= 0 }
