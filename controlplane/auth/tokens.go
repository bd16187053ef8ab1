package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"os"
	"strings"
)

// MinTokenLength is the shortest token LoadTokens and ParseTokens accept.
const MinTokenLength = 16

// Tokens is an immutable set of bearer tokens, each with an optional name
// and its scopes.
//
// A nil or empty *Tokens means authentication is disabled: Check accepts
// every request. Tokens is safe for concurrent use; to reload, build a new
// *Tokens and swap the pointer the readers load.
type Tokens struct {
	tokens []token
}

// token is one configured token, kept only as its SHA-256 digest so that
// comparisons take the same time whatever the length of the candidate.
type token struct {
	sum [sha256.Size]byte
	id  Identity
}

// LoadTokens reads and parses the tokens file at path (see ParseTokens).
// A file without any token is an error, so that a misconfigured file never
// silently disables authentication.
func LoadTokens(path string) (*Tokens, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load tokens file %q: %w", path, err)
	}
	t, err := ParseTokens(data)
	if err != nil {
		return nil, fmt.Errorf("load tokens file %q: %w", path, err)
	}
	return t, nil
}

// ParseTokens parses the content of a tokens file:
//
//	# comment lines start with '#' (after optional spaces)
//	<token> <name> [<scopes>]
//	<token>
//
// Blank lines are ignored. A token is at least MinTokenLength characters of
// the RFC 6750 token alphabet (A-Z a-z 0-9 - . _ ~ + / followed by optional
// '='). The name (one word) says whose it is: the control plane records it
// as the registered_by of the entries the token registers, and lets only
// that name (or an admin) change them; a sidecar's token should be named
// after its node id. Names need not be unique: tokens of one name share its
// entries (to rotate a token, add the new one, then remove the old). scopes is a comma-separated list of read, write and
// admin (see Scopes), DefaultScopes (write) when absent, so that files
// written before scopes keep working. A token without a name (a file of
// that older form) has DefaultScopes and registers entries nobody owns.
// Duplicate tokens, unknown scopes and lines with more than three words are
// errors. Errors name the line but never contain a token. At least one
// token is required.
func ParseTokens(data []byte) (*Tokens, error) {
	t := &Tokens{}
	seen := make(map[[sha256.Size]byte]int)
	for i, line := range strings.Split(string(data), "\n") {
		lineNo := i + 1
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		tok, err := parseLine(fields)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", lineNo, err)
		}
		if prev, dup := seen[tok.sum]; dup {
			return nil, fmt.Errorf("line %d: duplicate token (first on line %d)", lineNo, prev)
		}
		seen[tok.sum] = lineNo
		t.tokens = append(t.tokens, tok)
	}
	if len(t.tokens) == 0 {
		return nil, fmt.Errorf("no tokens")
	}
	return t, nil
}

// parseLine parses the words of one non-comment line.
func parseLine(fields []string) (token, error) {
	if len(fields) > 3 {
		return token{}, fmt.Errorf("want \"<token> <name> [<scopes>]\", got %d words", len(fields))
	}
	secret := fields[0]
	if len(secret) < MinTokenLength {
		return token{}, fmt.Errorf("token shorter than %d characters", MinTokenLength)
	}
	if !isBearerToken(secret) {
		return token{}, fmt.Errorf("token has characters outside A-Z a-z 0-9 - . _ ~ + / and trailing '='")
	}
	tok := token{sum: sha256.Sum256([]byte(secret)), id: Identity{Scopes: DefaultScopes}}
	if len(fields) > 1 {
		tok.id.Name = fields[1]
	}
	if len(fields) > 2 {
		scopes, err := ParseScopes(fields[2])
		if err != nil {
			return token{}, err
		}
		tok.id.Scopes = scopes
	}
	return tok, nil
}

// isBearerToken reports whether s is an RFC 6750 b64token.
func isBearerToken(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-._~+/", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// Enabled reports whether any token is configured, i.e. whether Check
// rejects requests without a valid token.
func (t *Tokens) Enabled() bool {
	return t != nil && len(t.tokens) > 0
}

// Len returns the number of configured tokens.
func (t *Tokens) Len() int {
	if t == nil {
		return 0
	}
	return len(t.tokens)
}

// Check authenticates the value of an Authorization header. It returns the
// matching token's identity (its name, empty when the token has none, and
// its scopes) and true when the header is "Bearer <token>" (scheme
// case-insensitive) for a configured token, or (Open, true) when
// authentication is disabled. Whether the identity may do what the request
// asks is the caller's decision (Scopes.Has). The candidate is compared
// against every token in constant time, so neither the timing nor the work
// done reveals which token, if any, matched.
func (t *Tokens) Check(header string) (id Identity, ok bool) {
	if !t.Enabled() {
		return Open, true
	}
	scheme, cred, found := strings.Cut(header, " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return Identity{}, false
	}
	cred = strings.TrimLeft(cred, " ")
	if cred == "" {
		return Identity{}, false
	}
	sum := sha256.Sum256([]byte(cred))
	match, idx := 0, 0
	for i := range t.tokens {
		eq := subtle.ConstantTimeCompare(sum[:], t.tokens[i].sum[:])
		idx = subtle.ConstantTimeSelect(eq, i, idx)
		match |= eq
	}
	if match == 0 {
		return Identity{}, false
	}
	return t.tokens[idx].id, true
}

// Errors Authorize's errors wrap; test with errors.Is.
var (
	// ErrUnauthenticated: no configured token was presented (HTTP 401).
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrPermissionDenied: the token lacks a scope the request needs
	// (HTTP 403).
	ErrPermissionDenied = errors.New("permission denied")
)

// denial is an error of Authorize: its message is for the client and
// never contains a token.
type denial struct {
	kind   error // ErrUnauthenticated or ErrPermissionDenied
	reason string
}

func (d *denial) Error() string { return d.reason }
func (d *denial) Unwrap() error { return d.kind }

// Authorize authenticates an Authorization header as Check does and checks
// that its token has the scopes need. It returns the token's identity, or
// an error wrapping ErrUnauthenticated for a missing header or a token that
// is not configured, or ErrPermissionDenied for a token without a scope of
// need. The error's message says which, for the client. With
// authentication disabled it returns Open.
func (t *Tokens) Authorize(header string, need Scopes) (Identity, error) {
	id, ok := t.Check(header)
	switch {
	case !ok && header == "":
		return Identity{}, &denial{ErrUnauthenticated, `missing Authorization header; want "Bearer <token>"`}
	case !ok:
		return Identity{}, &denial{ErrUnauthenticated, "invalid bearer token"}
	case !id.Scopes.Has(need):
		who := "the token"
		if id.Name != "" {
			who = fmt.Sprintf("the token of %q", id.Name)
		}
		return Identity{}, &denial{ErrPermissionDenied, fmt.Sprintf("%s has the scopes %q; this request needs %q",
			who, id.Scopes, need)}
	}
	return id, nil
}
