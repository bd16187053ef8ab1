package a2aregistry

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
)

func TestAllow(t *testing.T) {
	tests := []struct{ path, want string }{
		{"/agents", "GET, HEAD, POST"},
		{"/agents/search", "GET, HEAD, POST, DELETE"},
		{"/agents/weather", "GET, HEAD, DELETE"},
		{"/agents/", ""},
		{"/agents/a/b", ""},
		{"/health", "GET, HEAD"},
		{"/jsonrpc", "POST"},
		{"/other", ""},
	}
	for _, tt := range tests {
		if got := Allow(tt.path); got != tt.want {
			t.Errorf("Allow(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}

func TestIsJSONContentType(t *testing.T) {
	tests := []struct {
		ct   string
		want bool
	}{
		{"", true},
		{"application/json", true},
		{"application/json; charset=utf-8", true},
		{"application/vnd.a2a+json", true},
		{"text/plain", false},
		{"application/x-www-form-urlencoded", false},
		{"application/json; =bad", false},
	}
	for _, tt := range tests {
		if got := IsJSONContentType(tt.ct); got != tt.want {
			t.Errorf("IsJSONContentType(%q) = %v, want %v", tt.ct, got, tt.want)
		}
	}
}

func TestDetailJSON(t *testing.T) {
	body := DetailJSON("bad \"thing\" \xff <x>")
	var got struct{ Detail string }
	if err := json.Unmarshal(body, &got); err != nil || got.Detail == "" || body[len(body)-1] != '\n' {
		t.Fatalf("DetailJSON = %q: %v", body, err)
	}
}

func TestDecodeBody(t *testing.T) {
	var req SearchRequest
	if err := DecodeBody([]byte(`{"query":"q","skills":["a"],"unknown":1}`), &req); err != nil || req.Query != "q" {
		t.Fatalf("DecodeBody = %v, %+v", err, req)
	}
	err := DecodeBody([]byte(`{"skills":"a"}`), &req)
	var ce *Error
	if !errors.As(err, &ce) || ce.Kind != KindInvalidRequest || ce.Kind.HTTPStatus() != 422 {
		t.Fatalf("DecodeBody of a mistyped body = %v, want a KindInvalidRequest", err)
	}
	if want := "invalid request body: skills must be an array, not string"; ce.Message != want {
		t.Errorf("message %q, want %q", ce.Message, want)
	}
}

func TestAsErrorStatus(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{fmt.Errorf("x: %w", ErrNotFound), 404},
		{fmt.Errorf("x: %w", ErrConflict), 409},
		{fmt.Errorf("x: %w", ErrForbidden), 403},
		{&Error{Kind: KindPermissionDenied}, 403},
		{fmt.Errorf("x: %w", ErrUnavailable), 503},
		{&Error{Kind: KindUnauthenticated}, 401},
		{&Error{Kind: KindInvalidCard}, 400},
		{errors.New("boom"), 500},
	}
	for _, tt := range tests {
		if got := AsError(tt.err).Kind.HTTPStatus(); got != tt.want {
			t.Errorf("AsError(%v) status %d, want %d", tt.err, got, tt.want)
		}
	}
}
