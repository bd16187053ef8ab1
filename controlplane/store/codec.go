package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sidecard/sidecard/registry"
)

// Bucket and meta key names.
var (
	bucketEntries = []byte("entries")
	bucketHistory = []byte("history")
	bucketMeta    = []byte("meta")
	bucketLeases  = []byte("leases")   // name -> lease record (see encodeLease)
	bucketExpiry  = []byte("expiries") // expiry key (see expiryKey) -> empty: leases in expiry order

	metaRevision  = []byte("revision")  // latest committed revision
	metaCompacted = []byte("compacted") // newest revision removed from history; 0 = none
)

// History record kinds: the first byte of a history value.
const (
	recordPut    byte = 'P'
	recordDelete byte = 'D'
)

// errCorrupt reports a value on disk that this code cannot have written.
var errCorrupt = errors.New("corrupt store record")

// revKey returns the history key of rev: 8 bytes, big-endian, so that
// bbolt's byte order is revision order.
func revKey(rev int64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), uint64(rev))
}

// decodeRev decodes a key or meta value written by revKey; nil decodes to 0.
func decodeRev(b []byte) (int64, error) {
	if b == nil {
		return 0, nil
	}
	if len(b) != 8 {
		return 0, fmt.Errorf("%w: revision of %d bytes", errCorrupt, len(b))
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

// encodeEntry returns the stored form of e: its API JSON.
func encodeEntry(e *registry.Entry) ([]byte, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode entry %q: %w", e.Name, err)
	}
	return b, nil
}

// decodeEntry parses the stored form of an entry, card included. It is the
// only place stored entries are decoded, so that decoding can be optimised in
// one spot. b may live in bbolt's mmap: nothing decoded may alias it.
//
// The entry is read with registry.EntryFromStored, not validated again: the
// store only holds entries that were validated, their cards in normalised
// form (see encodeEntry).
func decodeEntry(b []byte) (*registry.Entry, error) {
	e, err := registry.EntryFromStored(b)
	if err != nil {
		return nil, fmt.Errorf("%w: decode entry: %v", errCorrupt, err)
	}
	return e, nil
}

// encodeRecord returns a history record: kind, uvarint name length, name and,
// for a put, the entry's stored form.
func encodeRecord(kind byte, name string, entry []byte) []byte {
	b := make([]byte, 0, 1+binary.MaxVarintLen64+len(name)+len(entry))
	b = append(b, kind)
	b = binary.AppendUvarint(b, uint64(len(name)))
	b = append(b, name...)
	return append(b, entry...)
}

// decodeRecord decodes a history record written by encodeRecord into the
// change at rev. A deletion has a nil Entry.
func decodeRecord(rev int64, b []byte) (Change, error) {
	if len(b) < 2 || (b[0] != recordPut && b[0] != recordDelete) {
		return Change{}, fmt.Errorf("%w: history record %d", errCorrupt, rev)
	}
	n, w := binary.Uvarint(b[1:])
	rest := b[1+max(w, 0):]
	if w <= 0 || n > uint64(len(rest)) {
		return Change{}, fmt.Errorf("%w: history record %d name", errCorrupt, rev)
	}
	c := Change{Revision: rev, Name: string(rest[:n])}
	if b[0] == recordDelete {
		return c, nil
	}
	e, err := decodeEntry(rest[n:])
	if err != nil {
		return Change{}, fmt.Errorf("history record %d: %w", rev, err)
	}
	c.Entry = e
	return c, nil
}

// leaseLen is the length of a lease record.
const leaseLen = 16

// encodeLease returns the lease record of an entry expiring at expiry with a
// TTL of ttlSeconds: expiry in Unix nanoseconds, then ttlSeconds, both as
// 8 big-endian bytes.
func encodeLease(expiry time.Time, ttlSeconds int64) []byte {
	b := make([]byte, 0, leaseLen)
	b = binary.BigEndian.AppendUint64(b, uint64(expiry.UnixNano()))
	return binary.BigEndian.AppendUint64(b, uint64(ttlSeconds))
}

// decodeLease decodes a lease record written by encodeLease.
func decodeLease(b []byte) (Lease, error) {
	if len(b) != leaseLen {
		return Lease{}, fmt.Errorf("%w: lease of %d bytes", errCorrupt, len(b))
	}
	return Lease{
		Expiry: time.Unix(0, int64(binary.BigEndian.Uint64(b))).UTC(),
		TTL:    time.Duration(binary.BigEndian.Uint64(b[8:])) * time.Second,
	}, nil
}

// expiryKey returns the key of name's lease in the expiry index: expiry in
// Unix nanoseconds as 8 big-endian bytes, then the name, so that bbolt's byte
// order is expiry order.
func expiryKey(expiry time.Time, name string) []byte {
	b := make([]byte, 0, 8+len(name))
	b = binary.BigEndian.AppendUint64(b, uint64(expiry.UnixNano()))
	return append(b, name...)
}

// decodeExpiryKey decodes a key written by expiryKey.
func decodeExpiryKey(k []byte) (expiry time.Time, name string, err error) {
	if len(k) <= 8 {
		return time.Time{}, "", fmt.Errorf("%w: expiry key of %d bytes", errCorrupt, len(k))
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(k))).UTC(), string(k[8:]), nil
}
