package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// fleet is the simulated sidecars: streams sharing a few gRPC client
// connections. It owns the streams' goroutines and the one starting them;
// Close stops and waits for them and closes the connections.
type fleet struct {
	streams []*stream
	conns   []*grpc.ClientConn
	slots   int

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// newFleet connects to the control plane at addr: one connection per
// cfg.StreamsPerConn streams, each accepting messages as large as gRPC
// allows (an initial sync carries the whole registry). The streams start
// with Start.
func newFleet(addr string, cfg config, targets map[string]int, initial map[string]string) (*fleet, error) {
	f := &fleet{cancel: func() {}, slots: cfg.syncSlots()}
	for i := 0; i < cfg.Streams; i += cfg.StreamsPerConn {
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(math.MaxInt32)))
		if err != nil {
			return nil, errors.Join(fmt.Errorf("connect to the control plane: %w", err), f.Close())
		}
		f.conns = append(f.conns, conn)
	}
	f.streams = make([]*stream, cfg.Streams)
	for i := range f.streams {
		f.streams[i] = newStream(i, cfg.Entries, targets, initial)
	}
	return f, nil
}

// Start opens the streams in order, at most f.slots of them in their
// initial sync at a time, until every stream is open or ctx is done.
func (f *fleet) Start(ctx context.Context) {
	ctx, f.cancel = context.WithCancel(ctx)
	slots := make(chan struct{}, f.slots)
	f.wg.Go(func() {
		for i, s := range f.streams {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			client := discovery.NewAggregatedDiscoveryServiceClient(f.conns[i*len(f.conns)/len(f.streams)])
			f.wg.Go(func() { _ = s.run(ctx, client, func() { <-slots }) })
		}
	})
}

// WaitSynced waits until every stream has completed its initial sync. It
// fails when a stream ends first, or with ctx's error.
func (f *fleet) WaitSynced(ctx context.Context) error {
	for _, s := range f.streams {
		select {
		case <-s.synced:
		case <-s.ended:
			return fmt.Errorf("stream %d ended before its initial sync: %w", s.id, s.endError(ctx))
		case <-ctx.Done():
			return fmt.Errorf("wait for the initial syncs: %w", ctx.Err())
		}
	}
	return nil
}

// WaitWrites waits until every stream has received every write, for at most
// drain, or until ctx is done. It fails when a stream ends first.
func (f *fleet) WaitWrites(ctx context.Context, drain time.Duration) error {
	timer := time.NewTimer(drain)
	defer timer.Stop()
	for _, s := range f.streams {
		select {
		case <-s.done:
		case <-s.ended:
			if s.err == nil {
				return nil // stopped with ctx: the writes it missed are counted
			}
			return fmt.Errorf("stream %d ended before receiving every write: %w", s.id, s.err)
		case <-timer.C:
			return nil // the streams missing writes are counted
		case <-ctx.Done():
			return nil
		}
	}
	return nil
}

// Close stops the streams, waits for them and closes the connections. It
// returns the first error a stream ended with.
func (f *fleet) Close() error {
	f.cancel()
	f.wg.Wait()
	var errs []error
	for _, s := range f.streams {
		select {
		case <-s.ended:
		default:
			continue // never started
		}
		if s.err != nil {
			errs = append(errs, s.err)
			break
		}
	}
	for _, c := range f.conns {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}
