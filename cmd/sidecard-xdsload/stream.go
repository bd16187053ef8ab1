package main

import (
	"context"
	"fmt"
	"time"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	registryv1 "github.com/sidecard/sidecard/registry/v1"
)

// stream is one simulated sidecar: a delta ADS stream of the registry type
// that subscribes to "*" with an empty label selector and ACKs every
// response. It counts the resources of its initial sync and records when it
// receives each write's entry, and at which revision.
//
// Its fields are written by run only. start and syncedAt may be read once
// synced is closed; everything else once ended is closed.
type stream struct {
	id int
	// want is how many resources the client holds once in sync; got how
	// many it holds so far (the initial versions it started with included).
	want, got int
	// targets maps the name of the entry each write changes to the write's
	// index. Shared by every stream; read only.
	targets map[string]int
	// initial is the initial_resource_versions of the first request (nil:
	// a cold start). Shared by every stream; read only.
	initial map[string]string

	start, syncedAt time.Time
	// seenAt and seenRev are, per write, when the stream received the
	// write's entry and the revision it carried (zero: not yet).
	seenAt  []time.Time
	seenRev []int64
	seen    int

	synced chan struct{} // closed once the initial sync is complete
	done   chan struct{} // closed once every write was received
	ended  chan struct{} // closed when run returns; err is then set
	err    error
}

// newStream returns stream id expecting want resources at its initial sync.
func newStream(id, want int, targets map[string]int, initial map[string]string) *stream {
	return &stream{
		id: id, want: want, got: len(initial), targets: targets, initial: initial,
		seenAt: make([]time.Time, len(targets)), seenRev: make([]int64, len(targets)),
		synced: make(chan struct{}), done: make(chan struct{}), ended: make(chan struct{}),
	}
}

// run opens the stream on client and follows it until ctx is done (then it
// returns nil) or the stream fails. release is called once the initial sync
// is complete, or when run returns before.
func (s *stream) run(ctx context.Context, client discovery.AggregatedDiscoveryServiceClient, release func()) (err error) {
	released := false
	defer func() {
		if !released {
			release()
		}
		if ctx.Err() != nil {
			err = nil
		}
		s.err = err
		close(s.ended)
	}()
	first, err := s.firstRequest()
	if err != nil {
		return err
	}
	s.start = time.Now()
	st, err := client.DeltaAggregatedResources(ctx)
	if err != nil {
		return fmt.Errorf("stream %d: open: %w", s.id, err)
	}
	if err := st.Send(first); err != nil {
		return fmt.Errorf("stream %d: send: %w", s.id, err)
	}
	for {
		resp, err := st.Recv()
		if err != nil {
			return fmt.Errorf("stream %d: receive: %w", s.id, err)
		}
		if err := s.observe(resp, time.Now()); err != nil {
			return err
		}
		if !released && s.isSynced() {
			release()
			released = true
		}
		ack := &discovery.DeltaDiscoveryRequest{TypeUrl: registryv1.TypeURL, ResponseNonce: resp.GetNonce()}
		if err := st.Send(ack); err != nil {
			return fmt.Errorf("stream %d: send: %w", s.id, err)
		}
	}
}

// endError returns why the stream ended, once ended is closed: its error,
// or that of ctx when it was stopped.
func (s *stream) endError(ctx context.Context) error {
	if s.err != nil {
		return s.err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return context.Canceled
}

// firstRequest returns the request opening the stream: node id and
// metadata (a zone label, an empty selector), a subscription to "*" and,
// for a warm start, the initial resource versions.
func (s *stream) firstRequest() (*discovery.DeltaDiscoveryRequest, error) {
	md, err := structpb.NewStruct(map[string]any{
		"labels":   map[string]any{"zone": zones[s.id%len(zones)]},
		"selector": map[string]any{},
	})
	if err != nil {
		return nil, fmt.Errorf("stream %d: node metadata: %w", s.id, err)
	}
	return &discovery.DeltaDiscoveryRequest{
		Node:                    &core.Node{Id: fmt.Sprintf("xdsload-%05d", s.id), Metadata: md},
		TypeUrl:                 registryv1.TypeURL,
		ResourceNamesSubscribe:  []string{"*"},
		InitialResourceVersions: s.initial,
	}, nil
}

// isSynced reports whether the initial sync is complete. Only run calls it.
func (s *stream) isSynced() bool { return !s.syncedAt.IsZero() }

// observe accounts for a response received at now: until the initial sync
// is complete it counts resources (no write happens before every stream is
// in sync); then it records the writes the response carries.
func (s *stream) observe(resp *discovery.DeltaDiscoveryResponse, now time.Time) error {
	if !s.isSynced() {
		s.got += len(resp.GetResources())
		if s.got >= s.want {
			s.syncedAt = now
			close(s.synced)
			if len(s.seenAt) == 0 {
				close(s.done)
			}
		}
		return nil
	}
	for _, r := range resp.GetResources() {
		k, ok := s.targets[r.GetName()]
		if !ok || !s.seenAt[k].IsZero() {
			continue
		}
		rev, err := agentRevision(r)
		if err != nil {
			return fmt.Errorf("stream %d: %w", s.id, err)
		}
		s.seenAt[k], s.seenRev[k] = now, rev
		if s.seen++; s.seen == len(s.seenAt) {
			close(s.done)
		}
	}
	return nil
}

// agentRevision returns the store revision an Agent resource carries.
func agentRevision(r *discovery.Resource) (int64, error) {
	if got := r.GetResource().GetTypeUrl(); got != registryv1.TypeURL {
		return 0, fmt.Errorf("resource %q of type %q", r.GetName(), got)
	}
	var a registryv1.Agent
	if err := proto.Unmarshal(r.GetResource().GetValue(), &a); err != nil {
		return 0, fmt.Errorf("resource %q: %w", r.GetName(), err)
	}
	if a.GetName() != r.GetName() {
		return 0, fmt.Errorf("resource %q holds agent %q", r.GetName(), a.GetName())
	}
	return a.GetRevision(), nil
}
