package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"time"
)

// worker drives one connection of a run. Its fields after run returns are
// read by merge only.
type worker struct {
	cfg        Config
	id         int
	start, end time.Time // the measured window
	budget     *budget

	latencies []time.Duration // of measured requests
	statuses  map[int]int     // of measured requests
	last      time.Time       // when the last measured response arrived
	errs      int
	err       error
}

// run sends requests until the window ends, the budget is spent, ctx is
// done or the connection fails.
func (w *worker) run(ctx context.Context) {
	w.statuses = map[int]int{}
	conn, err := (&net.Dialer{Timeout: dialTimeout}).DialContext(ctx, "tcp", w.cfg.Addr)
	if err != nil {
		w.fail(err)
		return
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	br := bufio.NewReaderSize(conn, 64<<10)
	pace := newPacer(w.cfg, w.id)
	for i := w.id * len(w.cfg.Requests) / w.cfg.Conns; ; i++ {
		sent := pace.next()
		if sent.After(w.end) || ctx.Err() != nil {
			return
		}
		measured := !sent.Before(w.start)
		if measured && !w.budget.take() {
			return
		}
		if i%256 == 0 {
			conn.SetDeadline(time.Now().Add(ioTimeout))
		}
		status, err := roundTrip(conn, br, w.cfg.Requests[i%len(w.cfg.Requests)])
		if err != nil {
			if ctx.Err() == nil {
				w.fail(err)
			}
			return
		}
		if measured {
			w.last = time.Now()
			w.latencies = append(w.latencies, w.last.Sub(sent))
			w.statuses[status]++
		}
	}
}

// fail records err.
func (w *worker) fail(err error) {
	w.errs++
	if w.err == nil {
		w.err = fmt.Errorf("connection %d: %w", w.id, err)
	}
}

// pacer schedules the requests of one connection.
type pacer struct {
	interval time.Duration // 0: closed loop
	due      time.Time
}

func newPacer(c Config, id int) *pacer {
	p := &pacer{}
	if c.Rate > 0 {
		p.interval = time.Duration(float64(time.Second) * float64(c.Conns) / c.Rate)
		// Spread the connections' schedules over one interval.
		p.due = time.Now().Add(p.interval * time.Duration(id) / time.Duration(c.Conns))
	}
	return p
}

// next waits until the next request is due and returns the time its
// latency counts from: now in a closed loop; in an open loop the time the
// request was due when the connection is behind schedule (so a slow server
// is charged for the wait), or the time the wait ended when it is not (so
// timer slack is not).
func (p *pacer) next() time.Time {
	if p.interval == 0 {
		return time.Now()
	}
	due := p.due
	p.due = p.due.Add(p.interval)
	if wait := time.Until(due); wait > 0 {
		time.Sleep(wait) // pacing the load, not synchronising
		return time.Now()
	}
	return due
}

// roundTrip writes req and reads one response, discarding its body, and
// returns its status code.
func roundTrip(conn net.Conn, br *bufio.Reader, req []byte) (int, error) {
	if _, err := conn.Write(req); err != nil {
		return 0, err
	}
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	status := int(line[9]-'0')*100 + int(line[10]-'0')*10 + int(line[11]-'0')
	length, err := readHeaders(br)
	if err != nil {
		return 0, err
	}
	if length < 0 {
		if status != 204 && status != 304 {
			return 0, fmt.Errorf("status %d response without Content-Length", status)
		}
		length = 0
	}
	_, err = br.Discard(length)
	return status, err
}

// readHeaders reads header lines up to the blank line and returns the
// Content-Length, -1 when absent.
func readHeaders(br *bufio.Reader) (int, error) {
	length := -1
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if len(line) <= 2 {
			return length, nil
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if ok && bytes.EqualFold(name, []byte("Content-Length")) {
			if length, err = parseLength(bytes.TrimSpace(value)); err != nil {
				return 0, err
			}
		}
	}
}

// parseLength parses a Content-Length value.
func parseLength(b []byte) (int, error) {
	if len(b) == 0 || len(b) > 12 {
		return 0, errors.New("bad Content-Length")
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, errors.New("bad Content-Length")
		}
		n = n*10 + int(c-'0')
	}
	return n, nil
}
