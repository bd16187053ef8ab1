package compat_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sidecard/sidecard/controlplane/compat"
	"github.com/sidecard/sidecard/internal/a2aregistry"
	"github.com/sidecard/sidecard/registry"
)

// failingRegistry is a Registry whose every call fails with err.
type failingRegistry struct{ err error }

func (f failingRegistry) Register(context.Context, *registry.Entry) (*registry.Entry, error) {
	return nil, f.err
}
func (f failingRegistry) Get(context.Context, string) (*registry.Entry, error) { return nil, f.err }
func (f failingRegistry) List(context.Context, int) ([]*registry.Entry, error) { return nil, f.err }
func (f failingRegistry) Search(context.Context, string, []string, int) ([]*registry.Entry, error) {
	return nil, f.err
}
func (f failingRegistry) Count(context.Context) (int, error)   { return 0, f.err }
func (f failingRegistry) Delete(context.Context, string) error { return f.err }

var _ a2aregistry.Registry = failingRegistry{}

// TestRegistryErrors checks how the Registry's errors are answered on both
// surfaces, and that only internal errors are logged, with their detail.
func TestRegistryErrors(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantDetail string
		wantCode   int
		wantLogged bool
	}{
		{"not found", fmt.Errorf("get: %w", a2aregistry.ErrNotFound), 404, "Agent not found", a2aregistry.CodeNotFound, false},
		{"conflict", fmt.Errorf("put: %w", a2aregistry.ErrConflict), 409, "owned by another source", a2aregistry.CodeConflict, false},
		{"unavailable", fmt.Errorf("wait: %w", a2aregistry.ErrUnavailable), 503, "retry", a2aregistry.CodeUnavailable, false},
		{"cancelled", context.Canceled, 503, "retry", a2aregistry.CodeUnavailable, false},
		{"invalid entry", &registry.FieldError{Field: "card.skills[0].inputModes", Message: "bad"}, 400,
			"card.skills[0].inputModes: bad", a2aregistry.CodeInvalidParams, false},
		{"internal", errors.New("disk on fire"), 500, "internal error", a2aregistry.CodeInternalError, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			h, err := compat.New(compat.Options{Registry: failingRegistry{err: tt.err},
				Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			e := &env{t: t, handler: h}
			for _, r := range []req{
				{method: "GET", path: "/agents/x"},
				{method: "GET", path: "/agents"},
				{method: "POST", path: "/agents/search", body: `{}`},
				{method: "DELETE", path: "/agents/x"},
				{method: "POST", path: "/agents", body: registerBody(weatherCard)},
			} {
				rec := e.do(r)
				if rec.Code != tt.wantStatus || !strings.Contains(rec.Body.String(), tt.wantDetail) {
					t.Errorf("%s %s: status %d, body %s; want %d with %q", r.method, r.path, rec.Code, rec.Body,
						tt.wantStatus, tt.wantDetail)
				}
				if tt.wantStatus == 503 && rec.Header().Get("Retry-After") == "" {
					t.Errorf("%s %s: no Retry-After", r.method, r.path)
				}
			}
			rec := e.rpc(`{"jsonrpc":"2.0","method":"list_agents","id":1}`)
			var resp struct {
				Error struct{ Code int } `json:"error"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || resp.Error.Code != tt.wantCode {
				t.Errorf("list_agents: %s; want code %d", rec.Body, tt.wantCode)
			}
			if logged := strings.Contains(logs.String(), "disk on fire"); logged != tt.wantLogged {
				t.Errorf("logged %v, want %v; log:\n%s", logged, tt.wantLogged, logs.String())
			}
		})
	}
}

// TestHealthFailure checks /health when the registry cannot count.
func TestHealthFailure(t *testing.T) {
	h, err := compat.New(compat.Options{Registry: failingRegistry{err: a2aregistry.ErrUnavailable}})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, handler: h}
	if rec := e.do(req{method: "GET", path: "/health"}); rec.Code != 503 {
		t.Errorf("status %d, want 503; body %s", rec.Code, rec.Body)
	}
}

func TestOptionsValidate(t *testing.T) {
	reg := failingRegistry{}
	tests := []struct {
		name    string
		opts    compat.Options
		wantErr string
	}{
		{"valid", compat.Options{Registry: reg}, ""},
		{"defaults are valid", func() compat.Options { o := compat.DefaultOptions(); o.Registry = reg; return o }(), ""},
		{"no registry", compat.Options{}, "registry is required"},
		{"negative body limit", compat.Options{Registry: reg, MaxBodyBytes: -1}, "max body bytes"},
		{"negative results", compat.Options{Registry: reg, MaxResults: -1}, "max results"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.opts.Validate()
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Validate() = %v, want %q", err, tt.wantErr)
			}
			if _, err := compat.New(tt.opts); (err == nil) != (tt.wantErr == "") {
				t.Fatalf("New() = %v, want %q", err, tt.wantErr)
			}
		})
	}
	t.Run("metrics registered twice", func(t *testing.T) {
		reg := prometheus.NewRegistry()
		if _, err := compat.New(compat.Options{Registry: failingRegistry{}, Registerer: reg}); err != nil {
			t.Fatal(err)
		}
		if _, err := compat.New(compat.Options{Registry: failingRegistry{}, Registerer: reg}); err == nil {
			t.Fatal("New registered the metrics twice without an error")
		}
	})
	t.Run("store registry without a store", func(t *testing.T) {
		if _, err := compat.NewStoreRegistry(nil, nil); err == nil {
			t.Fatal("NewStoreRegistry(nil, nil) succeeded")
		}
	})
}
