package xds

import (
	"cmp"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/types/known/structpb"
)

// NodeStatus is what the server knows of one node (a sidecar, or any xDS
// client, by node.id): the status of its newest stream, inlined, and that of
// each of its open streams in Streams, newest first (the first is the
// inlined one). A node usually has one stream; it has more while it
// reconnects before the server has noticed that its old stream died, or
// when it speaks both delta and state-of-the-world.
type NodeStatus struct {
	// ID is node.id; a client that sent none is listed with an empty ID.
	ID string `json:"id"`
	StreamStatus
	// Streams are the node's open streams, newest first.
	Streams []StreamStatus `json:"streams"`
}

// StreamStatus is the status of one open xDS stream.
type StreamStatus struct {
	// Labels are the string values of node.metadata.labels (never nil).
	Labels map[string]string `json:"labels"`
	// Selector are the string values of node.metadata.selector: the labels
	// of the entries the node asks for (empty: every entry).
	Selector map[string]string `json:"selector,omitempty"`
	// Address is the client's address (host:port).
	Address string `json:"address"`
	// ConnectedSince is when the stream was opened.
	ConnectedSince time.Time `json:"connected_since"`
	// Mode is "delta" or "sotw".
	Mode string `json:"mode"`
	// AckedRevision is the highest store revision of a registry response the
	// client ACKed: it holds every entry it sees as of that revision. 0
	// until its first ACK.
	AckedRevision int64 `json:"acked_revision"`
	// NACKs counts the responses (of any type) the client rejected.
	NACKs int64 `json:"nacks"`
	// LastNACKError is the error_detail.message of the last NACK, cut to
	// 1 KiB; LastNACKAt is when it was received.
	LastNACKError string    `json:"last_nack_error,omitempty"`
	LastNACKAt    time.Time `json:"last_nack_at,omitzero"`
	// LastRequestAt is when the last request (of any kind) was received.
	LastRequestAt time.Time `json:"last_request_at"`
}

// maxPending bounds the responses sent on a stream and not yet ACKed or
// NACKed that are remembered (for ACKed revisions and push latency); a
// client that never answers makes the tracker forget the oldest.
const maxPending = 16

// maxNACKError bounds the NACK error kept per stream, in bytes.
const maxNACKError = 1024

// streamKey names a stream: the delta and state-of-the-world servers number
// their streams separately.
type streamKey struct {
	mode string
	id   int64
}

// tracked is the state of one open stream. Guarded by the tracker's mutex.
type tracked struct {
	seq    uint64     // opening order, for newest first
	node   *core.Node // the node of the last request that carried one; nil before
	status StreamStatus
	// types are the type URLs the stream has requested (bounded: a type the
	// server does not serve closes the stream).
	types map[string]struct{}
	// pending are the responses not yet ACKed or NACKed, oldest first.
	pending []sent
}

// sent is a response sent on a stream.
type sent struct {
	nonce, typeURL string
	revision       int64 // store revision of a registry response; 0 otherwise
	at             time.Time
}

// tracker follows the streams of a Server through go-control-plane's
// callbacks (callbacks.go) and reports them as NodeStatus. It holds per-stream
// state only, freed when the stream closes. Safe for concurrent use.
type tracker struct {
	log     *slog.Logger
	now     func() time.Time
	metrics *serverMetrics
	served  map[string]struct{} // type URLs served, for the nacks label

	mu      sync.Mutex
	seq     uint64
	streams map[streamKey]*tracked
}

func newTracker(log *slog.Logger, now func() time.Time, m *serverMetrics, served []string) *tracker {
	t := &tracker{log: log, now: now, metrics: m, served: make(map[string]struct{}, len(served)),
		streams: make(map[streamKey]*tracked)}
	for _, typeURL := range served {
		t.served[typeURL] = struct{}{}
	}
	return t
}

// nodes returns the status of every node that has sent a request, by ID.
// The result is new and owned by the caller.
func (t *tracker) nodes() []NodeStatus {
	type snap struct {
		id     string
		seq    uint64
		status StreamStatus
	}
	t.mu.Lock()
	snaps := make([]snap, 0, len(t.streams))
	for _, s := range t.streams {
		if s.node != nil {
			snaps = append(snaps, snap{id: s.node.GetId(), seq: s.seq, status: s.status.clone()})
		}
	}
	t.mu.Unlock()
	slices.SortFunc(snaps, func(a, b snap) int {
		return cmp.Or(cmp.Compare(a.id, b.id), cmp.Compare(b.seq, a.seq))
	})
	var out []NodeStatus
	for _, s := range snaps {
		if n := len(out); n > 0 && out[n-1].ID == s.id {
			out[n-1].Streams = append(out[n-1].Streams, s.status)
			continue
		}
		out = append(out, NodeStatus{ID: s.id, StreamStatus: s.status, Streams: []StreamStatus{s.status}})
	}
	return out
}

// clone returns a copy of s that shares no map with it.
func (s StreamStatus) clone() StreamStatus {
	s.Labels = maps.Clone(s.Labels)
	s.Selector = maps.Clone(s.Selector)
	return s
}

// setNode records the node of a request, if it carries one, and reports
// whether it is the stream's first.
func (s *tracked) setNode(n *core.Node) bool {
	if n == nil || n == s.node {
		return false
	}
	first := s.node == nil
	s.node = n
	fields := n.GetMetadata().GetFields()
	s.status.Labels = stringFields(fields["labels"].GetStructValue())
	s.status.Selector = stringFields(fields["selector"].GetStructValue())
	if len(s.status.Selector) == 0 {
		s.status.Selector = nil
	}
	return first
}

// stringFields returns the string values of st (never nil).
func stringFields(st *structpb.Struct) map[string]string {
	out := make(map[string]string, len(st.GetFields()))
	for k, v := range st.GetFields() {
		if sv, ok := v.GetKind().(*structpb.Value_StringValue); ok {
			out[k] = sv.StringValue
		}
	}
	return out
}

// classify returns the kind of a request of typeURL on the stream and
// records that the stream requested typeURL.
func (s *tracked) classify(typeURL, nonce string, nack bool) string {
	_, seen := s.types[typeURL]
	if !seen {
		s.types[typeURL] = struct{}{}
	}
	switch {
	case nack:
		return kindNACK
	case !seen:
		return kindInitial
	case nonce != "":
		return kindACK
	}
	return kindSubscribe
}

// record records a response sent, forgetting the oldest unanswered one
// beyond maxPending.
func (s *tracked) record(r sent) {
	if len(s.pending) == maxPending {
		s.pending = slices.Delete(s.pending, 0, 1)
	}
	s.pending = append(s.pending, r)
}

// answered forgets the response of nonce, and the older ones of its type
// (a client answers the responses of a type in order, and a
// state-of-the-world client only the latest), and returns it.
func (s *tracked) answered(nonce string) (sent, bool) {
	i := slices.IndexFunc(s.pending, func(p sent) bool { return p.nonce == nonce })
	if i < 0 {
		return sent{}, false
	}
	r := s.pending[i]
	kept := s.pending[:0]
	for j, p := range s.pending {
		if j > i || p.typeURL != r.typeURL {
			kept = append(kept, p)
		}
	}
	clear(s.pending[len(kept):])
	s.pending = kept
	return r, true
}

// truncate returns s cut to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
