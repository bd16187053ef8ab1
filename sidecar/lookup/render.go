package lookup

import (
	"errors"
	"fmt"
	"hash/maphash"
	"strconv"

	"github.com/dgraph-io/ristretto/v2"

	"github.com/sidecard/sidecard/registry"
)

// kind is what a cached body is; it salts the cache key so that the entry,
// the card and a page never share a slot by construction.
type kind uint8

const (
	kindEntry kind = iota // the entry JSON
	kindCard              // the card JSON
	kindPage              // a search page
	numKinds
)

// kindNames are the values of the "kind" metric label.
var kindNames = [numKinds]string{kindEntry: "entry", kindCard: "card", kindPage: "search"}

// kindSalt makes the key of each kind differ for the same string.
var kindSalt = [numKinds]uint64{kindEntry: 0, kindCard: 0x9e3779b97f4a7c15, kindPage: 0xc2b2ae3d27d4eb4f}

// renderedOverhead approximates the bytes of a rendered value besides its
// slices, for the cost of a cache item.
const renderedOverhead = 64

// errNoCard is returned when an entry without a card is asked for its card.
var errNoCard = errors.New("entry has no card")

// rendered is one cached response body. It is immutable once made and
// shared by every request that hits it; its slices must not be modified.
type rendered struct {
	kind kind
	// key is the entry name, or the raw query string of a page.
	key string
	// version is the entry revision, or the snapshot sequence of a page.
	version uint64
	// etag is the quoted entry revision; nil for pages.
	etag []byte
	// body is the response body, ending in '\n'.
	body []byte
}

// cost is the number of bytes r holds, its ristretto cost.
func (r *rendered) cost() int64 {
	return int64(len(r.key)+len(r.etag)+len(r.body)) + renderedOverhead
}

// renderCache is a ristretto cache of rendered bodies. It is a cache and
// never the record: values may be dropped at any time, and a value counts
// only when its kind, key and version equal what the caller asks for.
// Safe for concurrent use until close.
type renderCache struct {
	seed    maphash.Seed
	c       *ristretto.Cache[uint64, *rendered]
	metrics *renderMetrics
}

// newRenderCache returns a cache of at most maxCost bytes.
func newRenderCache(maxCost int64, m *renderMetrics) (*renderCache, error) {
	c, err := ristretto.NewCache(&ristretto.Config[uint64, *rendered]{
		// Ten counters per item, assuming items of about 1 KiB.
		NumCounters: max(maxCost/100, 1024),
		MaxCost:     maxCost,
		BufferItems: 64,
		Metrics:     true,
		KeyToHash:   func(k uint64) (uint64, uint64) { return k, 0 },
	})
	if err != nil {
		return nil, fmt.Errorf("create rendered-response cache: %w", err)
	}
	return &renderCache{seed: maphash.MakeSeed(), c: c, metrics: m}, nil
}

// get returns the body of kind k for key at version, or nil. It does not
// allocate or retain key.
func (rc *renderCache) get(k kind, key string, version uint64) *rendered {
	r, ok := rc.c.Get(maphash.String(rc.seed, key) ^ kindSalt[k])
	if !ok || r.kind != k || r.version != version || r.key != key {
		rc.metrics.miss[k].Inc()
		return nil
	}
	rc.metrics.hit[k].Inc()
	return r
}

// set offers r to the cache, replacing whatever its key held. The cache
// may drop it.
func (rc *renderCache) set(r *rendered) {
	rc.c.Set(maphash.String(rc.seed, r.key)^kindSalt[r.kind], r, r.cost())
}

// entry returns the rendered entry or card of e, from the cache or
// rendered now and offered to the cache.
func (rc *renderCache) entry(k kind, e *registry.Entry) (*rendered, error) {
	if r := rc.get(k, e.Name, uint64(e.Revision)); r != nil {
		return r, nil
	}
	r, err := render(k, e)
	if err != nil {
		return nil, err
	}
	rc.set(r)
	return r, nil
}

// wait blocks until every set so far has been applied (tests and benchmarks).
func (rc *renderCache) wait() { rc.c.Wait() }

// close stops the cache's goroutine. No get or set may follow or run
// concurrently.
func (rc *renderCache) close() { rc.c.Close() }

// render renders the entry or card of e (k is kindEntry or kindCard).
func render(k kind, e *registry.Entry) (*rendered, error) {
	var body []byte
	if k == kindCard {
		card := e.Card.JSON()
		if len(card) == 0 {
			return nil, errNoCard
		}
		body = make([]byte, 0, len(card)+1)
		body = append(body, card...)
	} else {
		var err error
		if body, err = marshalEntry(e); err != nil {
			return nil, err
		}
	}
	return &rendered{
		kind:    k,
		key:     e.Name,
		version: uint64(e.Revision),
		etag:    etag(e.Revision),
		body:    append(body, '\n'),
	}, nil
}

// etag returns the entity tag of revision rev: the quoted revision.
func etag(rev int64) []byte {
	b := make([]byte, 0, 22)
	b = append(b, '"')
	b = strconv.AppendInt(b, rev, 10)
	return append(b, '"')
}
