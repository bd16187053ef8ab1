package auth

import (
	"context"
	"strings"
	"testing"
)

func TestParseScopes(t *testing.T) {
	tests := []struct {
		list    string
		want    Scopes
		wantErr string
	}{
		{list: "read", want: Read},
		{list: "write", want: Write | Read},
		{list: "admin", want: Admin | Write | Read},
		{list: "read,write", want: Write | Read},
		{list: "write,read,write", want: Write | Read},
		{list: "read,admin", want: Admin | Write | Read},
		{list: "", wantErr: `unknown scope ""`},
		{list: "read,", wantErr: `unknown scope ""`},
		{list: "Read", wantErr: `unknown scope "Read"`},
		{list: "delete", wantErr: `unknown scope "delete"`},
	}
	for _, tt := range tests {
		t.Run(tt.list, func(t *testing.T) {
			got, err := ParseScopes(tt.list)
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("ParseScopes(%q) = %v, %v; want the error %q", tt.list, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseScopes(%q) = %v, %v; want %v", tt.list, got, err, tt.want)
			}
		})
	}
}

// TestScopesHas is the scope matrix: what each token scope may do.
func TestScopesHas(t *testing.T) {
	tests := []struct {
		scopes             Scopes
		read, write, admin bool
	}{
		{scopes: 0},
		{scopes: Read, read: true},
		{scopes: DefaultScopes, read: true, write: true},
		{scopes: Open.Scopes, read: true, write: true, admin: true},
	}
	for _, tt := range tests {
		t.Run(tt.scopes.String(), func(t *testing.T) {
			got := [3]bool{tt.scopes.Has(Read), tt.scopes.Has(Write), tt.scopes.Has(Admin)}
			if want := [3]bool{tt.read, tt.write, tt.admin}; got != want {
				t.Errorf("Has(read, write, admin) = %v, want %v", got, want)
			}
			if tt.scopes.Has(0) {
				t.Error("Has(0) = true, want false")
			}
		})
	}
}

func TestScopesString(t *testing.T) {
	tests := map[Scopes]string{0: "", Read: "read", DefaultScopes: "read,write", Open.Scopes: "read,write,admin"}
	for s, want := range tests {
		if got := s.String(); got != want {
			t.Errorf("Scopes(%d).String() = %q, want %q", s, got, want)
		}
	}
}

func TestContext(t *testing.T) {
	if id, ok := FromContext(context.Background()); ok {
		t.Fatalf("FromContext of a bare context = %+v, true", id)
	}
	want := Identity{Name: "host-a", Scopes: DefaultScopes}
	if got, ok := FromContext(NewContext(context.Background(), want)); !ok || got != want {
		t.Fatalf("FromContext = %+v, %v; want %+v, true", got, ok, want)
	}
}
