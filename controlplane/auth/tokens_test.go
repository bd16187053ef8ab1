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
		{file: "crlf.good", wantLen: 1},
		{file: "empty.bad", wantErr: "no tokens"},
		{file: "short.bad", wantErr: "line 1: token shorter than 16"},
		{file: "duplicate.bad", wantErr: "line 2: duplicate token (first on line 1)"},
		{file: "words.bad", wantErr: "line 1: want"},
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
	tests := []struct {
		name     string
		tokens   *Tokens
		header   string
		wantName string
		wantOK   bool
	}{
		{name: "named token", tokens: tokens, header: "Bearer s3cr3t-token-for-ci-0001", wantName: "ci", wantOK: true},
		{name: "token with padding and symbols", tokens: tokens, header: "Bearer deploy+bot/token_value~x==", wantName: "deploybot", wantOK: true},
		{name: "unnamed token", tokens: tokens, header: "Bearer anonymous-token-00000000", wantOK: true},
		{name: "scheme is case-insensitive", tokens: tokens, header: "bearer s3cr3t-token-for-ci-0001", wantName: "ci", wantOK: true},
		{name: "extra spaces before the token", tokens: tokens, header: "Bearer   s3cr3t-token-for-ci-0001", wantName: "ci", wantOK: true},
		{name: "missing header", tokens: tokens, header: ""},
		{name: "wrong scheme", tokens: tokens, header: "Basic s3cr3t-token-for-ci-0001"},
		{name: "scheme without token", tokens: tokens, header: "Bearer"},
		{name: "scheme and blank token", tokens: tokens, header: "Bearer   "},
		{name: "wrong token", tokens: tokens, header: "Bearer s3cr3t-token-for-ci-0002"},
		{name: "prefix of a token", tokens: tokens, header: "Bearer s3cr3t-token-for-ci"},
		{name: "token with a suffix", tokens: tokens, header: "Bearer s3cr3t-token-for-ci-0001x"},
		{name: "comment is not a token", tokens: tokens, header: "Bearer # indented comment"},
		{name: "nil tokens disable auth", tokens: nil, header: "", wantOK: true},
		{name: "empty tokens disable auth", tokens: &Tokens{}, header: "Basic whatever", wantOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, ok := tt.tokens.Check(tt.header)
			if name != tt.wantName || ok != tt.wantOK {
				t.Fatalf("Check(%q) = %q, %v; want %q, %v", tt.header, name, ok, tt.wantName, tt.wantOK)
			}
		})
	}
}

func TestCheckConcurrent(t *testing.T) {
	tokens, err := ParseTokens([]byte("concurrent-token-000001 a\nconcurrent-token-000002 b\n"))
	if err != nil {
		t.Fatal(err)
	}
	headers := map[string]string{"a": "Bearer concurrent-token-000001", "b": "Bearer concurrent-token-000002"}
	var wg sync.WaitGroup
	for want, header := range headers {
		wg.Go(func() {
			for range 100 {
				if name, ok := tokens.Check(header); !ok || name != want {
					t.Errorf("Check(%q) = %q, %v; want %q, true", header, name, ok, want)
					return
				}
			}
		})
	}
	wg.Wait()
}
