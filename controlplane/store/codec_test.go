package store

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/sidecard/sidecard/registry"
)

func TestDecodeRecord(t *testing.T) {
	e := entry(t, "weather")
	e.Revision = 7
	js := mustJSON(t, e)
	tests := []struct {
		name        string
		rec         []byte
		wantName    string
		wantDeleted bool
		wantCorrupt bool
	}{
		{name: "put", rec: encodeRecord(recordPut, "weather", js), wantName: "weather"},
		{name: "delete", rec: encodeRecord(recordDelete, "weather", nil), wantName: "weather", wantDeleted: true},
		{name: "empty", rec: nil, wantCorrupt: true},
		{name: "unknown kind", rec: encodeRecord('X', "weather", js), wantCorrupt: true},
		{name: "name longer than the record", rec: []byte{recordDelete, 9, 'a'}, wantCorrupt: true},
		{name: "bad name length", rec: []byte{recordDelete, 0xff}, wantCorrupt: true},
		{name: "put without an entry", rec: encodeRecord(recordPut, "weather", nil), wantCorrupt: true},
		{name: "put with a broken entry", rec: encodeRecord(recordPut, "weather", js[:len(js)-1]), wantCorrupt: true},
		{name: "put with a card that is not an object", rec: encodeRecord(recordPut, "weather",
			[]byte(`{"name":"weather","card":["x"]}`)), wantCorrupt: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := decodeRecord(7, tc.rec)
			if tc.wantCorrupt {
				if !errors.Is(err, errCorrupt) {
					t.Fatalf("decodeRecord error = %v, want errCorrupt", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("decodeRecord: %v", err)
			}
			if c.Revision != 7 || c.Name != tc.wantName || (c.Entry == nil) != tc.wantDeleted {
				t.Errorf("decodeRecord = %+v", c)
			}
			if !tc.wantDeleted && !c.Entry.ContentEqual(e) {
				t.Errorf("decoded entry differs from the encoded one")
			}
		})
	}
}

func TestDecodeRev(t *testing.T) {
	tests := []struct {
		name    string
		b       []byte
		want    int64
		wantErr bool
	}{
		{name: "absent", b: nil, want: 0},
		{name: "round trip", b: revKey(1 << 40), want: 1 << 40},
		{name: "wrong length", b: []byte{1, 2, 3}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeRev(tc.b)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("decodeRev = %d, %v; want %d, error %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

// TestEntryRoundTrip checks that an entry as the store writes it (every
// field set) decodes to an equal entry, card fields included, without
// validating the card again.
func TestEntryRoundTrip(t *testing.T) {
	e := entry(t, "weather", "team", "forecast")
	e.Endpoints = []registry.Endpoint{{URL: "http://10.0.0.7:9001", Weight: 3}}
	e.TTLSeconds, e.Revision, e.Source, e.RegisteredBy = 30, 7, registry.SourceAPI, "ci-token"
	e.UpdatedAt = time.Date(2026, 11, 22, 12, 0, 0, 123456789, time.UTC)
	b, err := encodeEntry(e)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeEntry(b)
	if err != nil {
		t.Fatalf("decodeEntry: %v", err)
	}
	if !reflect.DeepEqual(got, e) {
		t.Fatalf("decodeEntry(encodeEntry(e)) = %+v\nwant %+v", *got, *e)
	}
}
