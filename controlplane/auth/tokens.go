package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"os"
	"strings"
)

// MinTokenLength is the shortest token LoadTokens and ParseTokens accept.
const MinTokenLength = 16

// Tokens is an immutable set of bearer tokens, each with an optional name.
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
	sum  [sha256.Size]byte
	name string
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
//	<token>
//	<token> <name>
//
// Blank lines are ignored. A token is at least MinTokenLength characters of
// the RFC 6750 token alphabet (A-Z a-z 0-9 - . _ ~ + / followed by optional
// '='); the optional name (one word) says whose it is and is what Check
// returns. Duplicate tokens and lines with more than two words are errors.
// Errors name the line but never contain a token. At least one token is
// required.
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
	if len(fields) > 2 {
		return token{}, fmt.Errorf("want \"<token>\" or \"<token> <name>\", got %d words", len(fields))
	}
	secret := fields[0]
	if len(secret) < MinTokenLength {
		return token{}, fmt.Errorf("token shorter than %d characters", MinTokenLength)
	}
	if !isBearerToken(secret) {
		return token{}, fmt.Errorf("token has characters outside A-Z a-z 0-9 - . _ ~ + / and trailing '='")
	}
	tok := token{sum: sha256.Sum256([]byte(secret))}
	if len(fields) == 2 {
		tok.name = fields[1]
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
// matching token's name (empty when the token has none) and true when the
// header is "Bearer <token>" (scheme case-insensitive) for a configured
// token, or ("", true) when authentication is disabled. The candidate is
// compared against every token in constant time, so neither the timing nor
// the work done reveals which token, if any, matched.
func (t *Tokens) Check(header string) (name string, ok bool) {
	if !t.Enabled() {
		return "", true
	}
	scheme, cred, found := strings.Cut(header, " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	cred = strings.TrimLeft(cred, " ")
	if cred == "" {
		return "", false
	}
	sum := sha256.Sum256([]byte(cred))
	match, idx := 0, 0
	for i := range t.tokens {
		eq := subtle.ConstantTimeCompare(sum[:], t.tokens[i].sum[:])
		idx = subtle.ConstantTimeSelect(eq, i, idx)
		match |= eq
	}
	if match == 0 {
		return "", false
	}
	return t.tokens[idx].name, true
}
