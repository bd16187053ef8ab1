package auth

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestLoadTokensFixtures(t *testing.T) {
	tests := []struct {
		file    string
		wantLen int
		wantErr string // substring of the error; "" means success
	}{
		{file: "tokens.good", wantLen: 3},
		{file: "scopes.good", wantLen: 4},
		{file: "crlf.good", wantLen: 1},
		{file: "empty.bad", wantErr: "no tokens"},
		{file: "short.bad", wantErr: "line 1: token shorter than 16"},
		{file: "duplicate.bad", wantErr: "line 2: duplicate token (first on line 1)"},
		{file: "words.bad", wantErr: `line 1: want "<token> <name> [<scopes>]", got 4 words`},
		{file: "scope.bad", wantErr: `line 2: unknown scope "delete"`},
		{file: "scope_empty.bad", wantErr: `line 1: unknown scope ""`},
		{file: "charset.bad", wantErr: "line 1: token has characters"},
	}
	fixtures, err := filepath.Glob("testdata/*")
	if err != nil {
		t.Fatal(err)
	}
	if len(fixtures) != len(tests) {
		t.Fatalf("testdata has %d fixtures, the table covers %d", len(fixtures), len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			tok, err := LoadTokens(filepath.Join("testdata", tt.file))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("LoadTokens error = %v, want it to contain %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "0123456789") {
					t.Fatalf("error %q leaks the token", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadTokens: %v", err)
			}
			if tok.Len() != tt.wantLen || !tok.Enabled() {
				t.Fatalf("Len() = %d, Enabled() = %v; want %d, true", tok.Len(), tok.Enabled(), tt.wantLen)
			}
		})
	}
}

func TestLoadTokensMissingFile(t *testing.T) {
	_, err := LoadTokens(filepath.Join(t.TempDir(), "absent"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("error = %v, want fs.ErrNotExist", err)
	}
}

func TestCheck(t *testing.T) {
	tokens, err := LoadTokens("testdata/tokens.good")
	if err != nil {
		t.Fatal(err)
	}
	scoped, err := LoadTokens("testdata/scopes.good")
	if err != nil {
		t.Fatal(err)
	}
	ci := Identity{Name: "ci", Scopes: Write | Read}
	tests := []struct {
		name   string
		tokens *Tokens
		header string
		want   Identity
		wantOK bool
	}{
		{name: "named token", tokens: tokens, header: "Bearer s3cr3t-token-for-ci-0001", want: ci, wantOK: true},
		{name: "token with padding and symbols", tokens: tokens, header: "Bearer deploy+bot/token_value~x==",
			want: Identity{Name: "deploybot", Scopes: Write | Read}, wantOK: true},
		{name: "unnamed token", tokens: tokens, header: "Bearer anonymous-token-00000000",
			want: Identity{Scopes: Write | Read}, wantOK: true},
		{name: "read scope", tokens: scoped, header: "Bearer reader-token-000000000001",
			want: Identity{Name: "dashboard", Scopes: Read}, wantOK: true},
		{name: "write scope", tokens: scoped, header: "Bearer writer-token-000000000001",
			want: Identity{Name: "host-a", Scopes: Write | Read}, wantOK: true},
		{name: "admin scope", tokens: scoped, header: "Bearer admin-token-0000000000001",
			want: Identity{Name: "ops", Scopes: Admin | Write | Read}, wantOK: true},
		{name: "scope list", tokens: scoped, header: "Bearer listed-token-000000000001",
			want: Identity{Name: "both", Scopes: Write | Read}, wantOK: true},
		{name: "scheme is case-insensitive", tokens: tokens, header: "bearer s3cr3t-token-for-ci-0001", want: ci, wantOK: true},
		{name: "extra spaces before the token", tokens: tokens, header: "Bearer   s3cr3t-token-for-ci-0001", want: ci, wantOK: true},
		{name: "missing header", tokens: tokens, header: ""},
		{name: "wrong scheme", tokens: tokens, header: "Basic s3cr3t-token-for-ci-0001"},
		{name: "scheme without token", tokens: tokens, header: "Bearer"},
		{name: "scheme and blank token", tokens: tokens, header: "Bearer   "},
		{name: "wrong token", tokens: tokens, header: "Bearer s3cr3t-token-for-ci-0002"},
		{name: "prefix of a token", tokens: tokens, header: "Bearer s3cr3t-token-for-ci"},
		{name: "token with a suffix", tokens: tokens, header: "Bearer s3cr3t-token-for-ci-0001x"},
		{name: "comment is not a token", tokens: tokens, header: "Bearer # indented comment"},
		{name: "a name is not a token", tokens: scoped, header: "Bearer dashboard"},
		{name: "nil tokens disable auth", tokens: nil, header: "", want: Open, wantOK: true},
		{name: "empty tokens disable auth", tokens: &Tokens{}, header: "Basic whatever", want: Open, wantOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, ok := tt.tokens.Check(tt.header)
			if id != tt.want || ok != tt.wantOK {
				t.Fatalf("Check(%q) = %+v, %v; want %+v, %v", tt.header, id, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestCheckConcurrent(t *testing.T) {
	tokens, err := ParseTokens([]byte("concurrent-token-000001 a\nconcurrent-token-000002 b admin\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Identity{
		"Bearer concurrent-token-000001": {Name: "a", Scopes: Write | Read},
		"Bearer concurrent-token-000002": {Name: "b", Scopes: Admin | Write | Read},
	}
	var wg sync.WaitGroup
	for header, id := range want {
		wg.Go(func() {
			for range 100 {
				if got, ok := tokens.Check(header); !ok || got != id {
					t.Errorf("Check(%q) = %+v, %v; want %+v, true", header, got, ok, id)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestAuthorize(t *testing.T) {
	tokens, err := LoadTokens("testdata/scopes.good")
	if err != nil {
		t.Fatal(err)
	}
	unnamed, err := ParseTokens([]byte("unnamed-token-0000000001\n"))
	if err != nil {
		t.Fatal(err)
	}
	const (
		reader = "Bearer reader-token-000000000001"
		writer = "Bearer writer-token-000000000001"
		admin  = "Bearer admin-token-0000000000001"
	)
	tests := []struct {
		name    string
		tokens  *Tokens
		header  string
		need    Scopes
		wantID  string // the identity's name on success
		wantErr error  // ErrUnauthenticated or ErrPermissionDenied
		wantMsg string // the error's message
	}{
		{name: "read token reads", tokens: tokens, header: reader, need: Read, wantID: "dashboard"},
		{name: "read token cannot write", tokens: tokens, header: reader, need: Write, wantErr: ErrPermissionDenied,
			wantMsg: `the token of "dashboard" has the scopes "read"; this request needs "write"`},
		{name: "write token reads", tokens: tokens, header: writer, need: Read, wantID: "host-a"},
		{name: "write token writes", tokens: tokens, header: writer, need: Write, wantID: "host-a"},
		{name: "write token is no admin", tokens: tokens, header: writer, need: Admin, wantErr: ErrPermissionDenied,
			wantMsg: `the token of "host-a" has the scopes "read,write"; this request needs "admin"`},
		{name: "admin token writes", tokens: tokens, header: admin, need: Write, wantID: "ops"},
		{name: "unnamed token", tokens: unnamed, header: "Bearer unnamed-token-0000000001", need: Admin,
			wantErr: ErrPermissionDenied, wantMsg: `the token has the scopes "read,write"; this request needs "admin"`},
		{name: "no header", tokens: tokens, need: Read, wantErr: ErrUnauthenticated,
			wantMsg: `missing Authorization header; want "Bearer <token>"`},
		{name: "unknown token", tokens: tokens, header: "Bearer unknown-token-0000000001", need: Read,
			wantErr: ErrUnauthenticated, wantMsg: "invalid bearer token"},
		{name: "disabled", tokens: nil, need: Admin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := tt.tokens.Authorize(tt.header, tt.need)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || err.Error() != tt.wantMsg {
					t.Fatalf("Authorize = %+v, %v; want %v %q", id, err, tt.wantErr, tt.wantMsg)
				}
				return
			}
			if err != nil || id.Name != tt.wantID || !id.Scopes.Has(tt.need) {
				t.Fatalf("Authorize = %+v, %v; want %q with %v", id, err, tt.wantID, tt.need)
			}
		})
	}
}

// TestExampleTokensFile checks the tokens file shipped in examples/.
func TestExampleTokensFile(t *testing.T) {
	tokens, err := LoadTokens(filepath.Join("..", "..", "examples", "tokens"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Identity{
		"FAKE-example-token-host-a-0001":  {Name: "host-a", Scopes: DefaultScopes},
		"FAKE-example-token-ci-000000001": {Name: "ci", Scopes: DefaultScopes},
		"FAKE-example-token-dashboard-01": {Name: "dashboard", Scopes: Read},
		"FAKE-example-token-ops-00000001": {Name: "ops", Scopes: Admin | Write | Read},
	}
	for token, id := range want {
		if got, ok := tokens.Check("Bearer " + token); !ok || got != id {
			t.Errorf("Check(%s) = %+v, %v; want %+v", token, got, ok, id)
		}
	}
}
