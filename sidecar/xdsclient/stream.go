package xdsclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"github.com/sidecard/sidecard/cache"
	registryv1 "github.com/sidecard/sidecard/registry/v1"
)

// deltaStream is the client side of a delta ADS stream.
type deltaStream = grpc.BidiStreamingClient[discovery.DeltaDiscoveryRequest, discovery.DeltaDiscoveryResponse]

// session is one delta ADS stream on one connection. Its run goroutine is
// the only sender; one receive goroutine, owned by run, feeds it responses.
type session struct {
	c      *Client
	addr   string
	conn   *grpc.ClientConn
	stream deltaStream

	resps chan *discovery.DeltaDiscoveryResponse // receive goroutine → run; never closed
	errc  chan error                             // the receive error; one slot, never closed

	responses int // responses handled so far
}

// run opens the stream, subscribes and handles responses and node changes
// until the stream fails or ctx is done. It returns how long the stream was
// up and why it ended (nil when ctx is done).
func (s *session) run(ctx context.Context) (time.Duration, error) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel() // ends the stream, so Recv returns
		wg.Wait()
	}()
	var err error
	s.stream, err = discovery.NewAggregatedDiscoveryServiceClient(s.conn).DeltaAggregatedResources(ctx)
	if err != nil {
		return 0, fmt.Errorf("open stream to %s: %w", s.addr, err)
	}
	s.resps = make(chan *discovery.DeltaDiscoveryResponse)
	s.errc = make(chan error, 1)
	wg.Go(func() { s.receive(ctx) })

	if err := s.send(ctx, s.initialRequest()); err != nil {
		return 0, err
	}
	s.c.streamUp(s.addr)
	s.c.log.Info("xds stream open", "addr", s.addr)
	start := time.Now()
	err = s.loop(ctx)
	return time.Since(start), err
}

// loop handles responses and node changes until the stream fails or ctx
// is done.
func (s *session) loop(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-s.errc:
			return recvError(err)
		case resp := <-s.resps:
			if err := s.handle(ctx, resp); err != nil {
				return err
			}
		case <-s.c.nodeChanged:
			req := &discovery.DeltaDiscoveryRequest{Node: s.c.node(), TypeUrl: registryv1.TypeURL}
			if err := s.send(ctx, req); err != nil {
				return err
			}
			s.c.log.Info("xds node metadata resent", "addr", s.addr)
		}
	}
}

// initialRequest subscribes explicitly to every entry ("*") and tells the
// control plane which versions the replica already holds.
func (s *session) initialRequest() *discovery.DeltaDiscoveryRequest {
	select { // the node sent now is the latest: drop a pending change
	case <-s.c.nodeChanged:
	default:
	}
	return &discovery.DeltaDiscoveryRequest{
		Node:                    s.c.node(),
		TypeUrl:                 registryv1.TypeURL,
		ResourceNamesSubscribe:  []string{"*"},
		InitialResourceVersions: s.c.opts.Replica.Load().Versions(),
	}
}

// receive passes every response to loop until the stream fails, then puts
// the error in errc.
func (s *session) receive(ctx context.Context) {
	for {
		resp, err := s.stream.Recv()
		if err != nil {
			s.errc <- err
			return
		}
		select {
		case s.resps <- resp:
		case <-ctx.Done():
			return
		}
	}
}

// handle validates resp and applies it to the replica then ACKs it, or
// NACKs it whole and applies nothing.
func (s *session) handle(ctx context.Context, resp *discovery.DeltaDiscoveryResponse) error {
	s.responses++
	d, err := decodeResponse(resp)
	if err != nil {
		s.c.recordNACK(err)
		s.c.log.Warn("xds response rejected", "addr", s.addr, "nonce", resp.GetNonce(), "err", err)
		return s.send(ctx, nackRequest(resp, err))
	}
	snap := s.c.opts.Replica.ApplyDelta(d)
	s.observe(d)
	if err := s.send(ctx, &discovery.DeltaDiscoveryRequest{TypeUrl: registryv1.TypeURL, ResponseNonce: resp.GetNonce()}); err != nil {
		return err
	}
	s.c.recordACK()
	s.c.log.Debug("xds response applied", "addr", s.addr, "nonce", resp.GetNonce(),
		"upserts", len(d.Upserts), "removes", len(d.Removes), "revision", snap.Revision(), "entries", snap.Len())
	return nil
}

// observe counts an applied delta and, past a stream's first response (the
// catch-up after connecting), how long each upsert took to arrive.
func (s *session) observe(d cache.Delta) {
	m := s.c.metrics
	m.applied.WithLabelValues(opUpsert).Add(float64(len(d.Upserts)))
	m.applied.WithLabelValues(opRemove).Add(float64(len(d.Removes)))
	if s.responses == 1 {
		return
	}
	now := s.c.opts.Now()
	for _, e := range d.Upserts {
		if !e.UpdatedAt.IsZero() {
			m.updateDelay.Observe(max(0, now.Sub(e.UpdatedAt).Seconds()))
		}
	}
}

// nackRequest rejects resp with err.
func nackRequest(resp *discovery.DeltaDiscoveryResponse, err error) *discovery.DeltaDiscoveryRequest {
	typ := resp.GetTypeUrl()
	if typ == "" {
		typ = registryv1.TypeURL
	}
	return &discovery.DeltaDiscoveryRequest{
		TypeUrl:       typ,
		ResponseNonce: resp.GetNonce(),
		ErrorDetail:   &statuspb.Status{Code: int32(codes.InvalidArgument), Message: err.Error()},
	}
}

// send sends req. When the stream has already failed, gRPC reports io.EOF
// and the real error comes from Recv: send returns that one.
func (s *session) send(ctx context.Context, req *discovery.DeltaDiscoveryRequest) error {
	err := s.stream.Send(req)
	if err == nil {
		return nil
	}
	if !errors.Is(err, io.EOF) {
		return fmt.Errorf("send: %w", err)
	}
	select {
	case rerr := <-s.errc:
		return recvError(rerr)
	case <-ctx.Done():
		return nil
	}
}

// recvError describes the error that ended a stream.
func recvError(err error) error {
	if errors.Is(err, io.EOF) {
		return errors.New("stream closed by the control plane")
	}
	return fmt.Errorf("receive: %w", err)
}
