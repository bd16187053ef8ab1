package auth

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Scopes is a set of the rights a token grants. Each scope implies the
// ones below it (admin implies write, write implies read), and the Scopes
// of an Identity always hold the implied ones, so that Has asks for one
// right. The zero value grants nothing.
type Scopes uint8

// The scopes of a token.
const (
	// Read lets a caller read the registry; reads need it only when the
	// control plane requires a token for reads (auth.require_read_token).
	Read Scopes = 1 << iota
	// Write lets a caller register entries, and update, renew and remove
	// the ones it registered and the ones nobody registered.
	Write
	// Admin lets a caller change every entry, whoever registered it.
	Admin
)

// DefaultScopes are the scopes of a token whose line names none: write (and
// read), as every token had before scopes existed.
const DefaultScopes = Write | Read

// scopeNames are the names of the scopes in a tokens file, by bit: Read,
// Write, Admin. Each implies the ones before it.
var scopeNames = [...]string{"read", "write", "admin"}

// ParseScopes parses a comma-separated list of scope names (read, write,
// admin) into the set they grant, implied scopes included. An empty list,
// an empty item or an unknown name is an error.
func ParseScopes(list string) (Scopes, error) {
	var s Scopes
	for item := range strings.SplitSeq(list, ",") {
		granted, ok := scopeNamed(item)
		if !ok {
			return 0, fmt.Errorf("unknown scope %q; want a comma-separated list of read, write and admin", item)
		}
		s |= granted
	}
	return s, nil
}

// scopeNamed returns the scopes the scope name grants, implied ones
// included.
func scopeNamed(name string) (Scopes, bool) {
	i := slices.Index(scopeNames[:], name)
	if i < 0 {
		return 0, false
	}
	return Scopes(1)<<(i+1) - 1, true
}

// Has reports whether s holds every scope of want (and is false for an
// empty want).
func (s Scopes) Has(want Scopes) bool { return want != 0 && s&want == want }

// String returns the names of the scopes in s, comma-separated, lowest
// first ("read,write"); "" for none.
func (s Scopes) String() string {
	var names []string
	for i, name := range scopeNames {
		if s&(1<<i) != 0 {
			names = append(names, name)
		}
	}
	return strings.Join(names, ",")
}

// Identity is who a request comes from, as Check found it: the name and
// the scopes of its token. It is a value, safe to copy.
type Identity struct {
	// Name is the token's name: what the control plane records as the
	// registered_by of the entries the token registers. A sidecar's token
	// should be named after its node id. "" for a token without a name and
	// when authentication is disabled.
	Name string
	// Scopes are what the token may do, implied scopes included.
	Scopes Scopes
}

// Open is the identity of every request when authentication is disabled:
// it has no name and may do everything.
var Open = Identity{Scopes: Admin | Write | Read}

// identityKey is the context key of an Identity.
type identityKey struct{}

// NewContext returns a copy of ctx carrying id, for the layers below an
// API handler (the compat registry) that decide per entry.
func NewContext(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// FromContext returns the identity NewContext put in ctx; ok is false when
// there is none.
func FromContext(ctx context.Context) (id Identity, ok bool) {
	id, ok = ctx.Value(identityKey{}).(Identity)
	return id, ok
}
