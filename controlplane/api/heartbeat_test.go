package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sidecard/sidecard/controlplane/store"
	"github.com/sidecard/sidecard/registry"
)

var (
	_ Leases = (*store.Bolt)(nil)
	_ Leases = (*leaseStore)(nil)
)

// leaseNow is the time of leaseStore's renewals.
var leaseNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// leaseStore is a fakeStore that renews leases at leaseNow, with the real
// store's checks and errors.
type leaseStore struct{ *fakeStore }

func (s leaseStore) Renew(_ context.Context, name string, p store.Precondition) (store.Lease, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	if err := s.check(name, p); err != nil {
		return store.Lease{}, err
	}
	e, ok := s.entries[name]
	switch {
	case !ok:
		return store.Lease{}, fmt.Errorf("renew %q: %w", name, store.ErrNotFound)
	case e.TTLSeconds == 0:
		return store.Lease{}, fmt.Errorf("renew %q: %w", name, store.ErrNoLease)
	}
	ttl := time.Duration(e.TTLSeconds) * time.Second
	return store.Lease{Expiry: leaseNow.Add(ttl), TTL: ttl}, nil
}

// decodeHeartbeat decodes a heartbeat answer strictly.
func decodeHeartbeat(t *testing.T, body []byte) heartbeatBody {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var hb heartbeatBody
	if err := dec.Decode(&hb); err != nil {
		t.Fatalf("decode heartbeat %s: %v", body, err)
	}
	return hb
}

func TestHeartbeat(t *testing.T) {
	leased := func(name, source string, ttl int64) *registry.Entry {
		e := seed{name: name, rev: 3, source: source}.entry(t)
		e.TTLSeconds = ttl
		return e
	}
	post := func(path string, header map[string]string) req {
		return req{method: "POST", path: path, header: header}
	}
	const path = "/v1/agents/weather/heartbeat"
	ok := `{"name":"weather","expires_at":"2026-11-22T12:00:30Z","ttl_seconds":30}` + "\n"
	tests := []struct {
		name       string
		seeds      []*registry.Entry
		noLeases   bool // no Options.Leases
		auth       bool
		req        req
		wantStatus int
		wantCode   string // error code; "" for a success
		wantField  string
		wantInBody string // a substring of the body
		wantBody   string // exact body of a success; "" to skip
		noWrite    bool
	}{
		{name: "renews", seeds: []*registry.Entry{leased("weather", "", 30)}, req: post(path, nil),
			wantStatus: http.StatusOK, wantBody: ok},
		{name: "a body is ignored", seeds: []*registry.Entry{leased("weather", "", 30)},
			req:        req{method: "POST", path: path, body: `{"anything": true}`, header: jsonCT},
			wantStatus: http.StatusOK, wantBody: ok},
		{name: "If-Match at the current revision", seeds: []*registry.Entry{leased("weather", "", 30)},
			req: post(path, map[string]string{"If-Match": `"3"`}), wantStatus: http.StatusOK, wantBody: ok},
		{name: "If-Match at another revision", seeds: []*registry.Entry{leased("weather", "", 30)},
			req: post(path, map[string]string{"If-Match": `"2"`}), wantStatus: http.StatusPreconditionFailed, wantCode: codeFailedPrecondition},
		{name: "If-Match on an unknown entry", req: post(path, map[string]string{"If-Match": `"2"`}),
			wantStatus: http.StatusPreconditionFailed, wantCode: codeFailedPrecondition},
		{name: "unknown entry", req: post(path, nil), wantStatus: http.StatusNotFound, wantCode: codeNotFound},
		{name: "entry without ttl", seeds: []*registry.Entry{leased("weather", "", 0)}, req: post(path, nil),
			wantStatus: http.StatusConflict, wantCode: codeConflict, wantInBody: "without ttl_seconds"},
		{name: "entry owned by the files", seeds: []*registry.Entry{leased("weather", registry.SourceFile, 30)}, req: post(path, nil),
			wantStatus: http.StatusConflict, wantCode: codeConflict},
		{name: "invalid name", req: post("/v1/agents/Not_A_Name/heartbeat", nil),
			wantStatus: http.StatusBadRequest, wantCode: codeInvalidArgument, wantField: "name", noWrite: true},
		{name: "without a token", auth: true, seeds: []*registry.Entry{leased("weather", "", 30)}, req: post(path, nil),
			wantStatus: http.StatusUnauthorized, wantCode: codeUnauthenticated, noWrite: true},
		{name: "with a token", auth: true, seeds: []*registry.Entry{leased("weather", "", 30)},
			req:        post(path, map[string]string{"Authorization": "Bearer " + testToken}),
			wantStatus: http.StatusOK, wantBody: ok},
		{name: "GET is not allowed", seeds: []*registry.Entry{leased("weather", "", 30)}, req: req{method: "GET", path: path},
			wantStatus: http.StatusMethodNotAllowed, wantCode: codeMethodNotAllowed, noWrite: true},
		{name: "no route without leases", noLeases: true, seeds: []*registry.Entry{leased("weather", "", 30)}, req: post(path, nil),
			wantStatus: http.StatusNotFound, wantCode: codeNotFound, noWrite: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := leaseStore{newFakeStore(tc.seeds...)}
			opts := Options{Store: st, View: st}
			if !tc.noLeases {
				opts.Leases = st
			}
			if tc.auth {
				opts.Tokens = testTokens(t)
			}
			a, _ := newTestAPI(t, opts)
			rec := do(t, a.Handler(), tc.req)
			if tc.wantCode != "" {
				checkError(t, rec, tc.wantStatus, tc.wantCode, tc.wantField)
			} else if rec.Code != tc.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tc.wantStatus, rec.Body)
			}
			if tc.wantBody != "" && rec.Body.String() != tc.wantBody {
				t.Errorf("body = %s, want %s", rec.Body, tc.wantBody)
			}
			if tc.noWrite && st.writeCount() != 0 {
				t.Errorf("the request reached the store (%d writes)", st.writeCount())
			}
			if !strings.Contains(rec.Body.String(), tc.wantInBody) {
				t.Errorf("body %s does not contain %q", rec.Body, tc.wantInBody)
			}
		})
	}
}

// TestHeartbeatWithBoltStore renews a lease written through the API in the
// real store: the expiry moves, the revision and ETag do not.
func TestHeartbeatWithBoltStore(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	bolt, err := store.Open(filepath.Join(t.TempDir(), "store.db"), store.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := bolt.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	a, _ := newTestAPI(t, Options{Store: bolt, View: laggingView{}, Leases: bolt})
	h := a.Handler()
	body := fmt.Sprintf(`{"name": "weather", "ttl_seconds": 30, "card": %s}`, cardJSON("weather", "forecast", "rain"))
	if rec := do(t, h, req{method: "PUT", path: "/v1/agents/weather", body: body, header: jsonCT}); rec.Code != http.StatusCreated {
		t.Fatalf("PUT: status %d, body %s", rec.Code, rec.Body)
	}
	rev := bolt.Revision()

	now = now.Add(20 * time.Second)
	rec := do(t, h, req{method: "POST", path: "/v1/agents/weather/heartbeat"})
	if rec.Code != http.StatusOK {
		t.Fatalf("heartbeat: status %d, body %s", rec.Code, rec.Body)
	}
	hb := decodeHeartbeat(t, rec.Body.Bytes())
	if want := now.Add(30 * time.Second); hb.Name != "weather" || !hb.ExpiresAt.Equal(want) || hb.TTLSeconds != 30 {
		t.Errorf("heartbeat = %+v, want weather expiring at %v with ttl 30", hb, want)
	}
	if l, ok, err := bolt.Lease("weather"); err != nil || !ok || !l.Expiry.Equal(hb.ExpiresAt) {
		t.Errorf("stored lease = %v, %v, %v; want %v", l.Expiry, ok, err, hb.ExpiresAt)
	}
	if bolt.Revision() != rev {
		t.Errorf("revision after heartbeat = %d, want %d", bolt.Revision(), rev)
	}
	get := do(t, h, req{method: "GET", path: "/v1/agents/weather"})
	if tag := get.Header().Get("ETag"); tag != etag(rev) {
		t.Errorf("ETag after heartbeat = %s, want %s", tag, etag(rev))
	}
}
