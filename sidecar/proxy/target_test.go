package proxy

import (
	"net/url"
	"strings"
	"testing"
)

func TestSplitTarget(t *testing.T) {
	cases := []struct {
		raw, name, rest string
		err             error
	}{
		{raw: "/a2a/x", name: "x"},
		{raw: "/a2a/x/", name: "x", rest: "/"},
		{raw: "/a2a/weather.eu-1/v1/message:send", name: "weather.eu-1", rest: "/v1/message:send"},
		{raw: "/a2a/x/.well-known/agent-card.json", name: "x", rest: "/.well-known/agent-card.json"},
		{raw: "/a2a/x/a.b/..c/c..", name: "x", rest: "/a.b/..c/c.."},
		{raw: "/a2a/x/a%2Fb", name: "x", rest: "/a%2Fb"},
		{raw: "/a2a/", err: errNotProxied},
		{raw: "/a2a//x", err: errNotProxied},
		{raw: "/v1/agents", err: errNotProxied},
		{raw: "/a2a/x/..", err: errDotSegments},
		{raw: "/a2a/x/./y", err: errDotSegments},
		{raw: "/a2a/x/%2e%2E/y", err: errDotSegments},
		{raw: "/a2a/x/..%2fy", err: errDotSegments},
		{raw: "/a2a/x/a%5c..%5cb", err: errDotSegments},
		{raw: "/a2a/x/a\\..\\b", err: errDotSegments},
		{raw: "/a2a/x/%zz", err: errBadEscape},
	}
	for _, c := range cases {
		t.Run(c.raw, func(t *testing.T) {
			name, rest, err := splitTarget([]byte(c.raw))
			if err != c.err || string(name) != c.name || string(rest) != c.rest {
				t.Errorf("splitTarget = %q, %q, %v; want %q, %q, %v", name, rest, err, c.name, c.rest, c.err)
			}
		})
	}
}

func TestRequestPath(t *testing.T) {
	cases := map[string]string{
		"/a2a/x?q=1":           "/a2a/x",
		"http://h:1/a2a/x?q=1": "/a2a/x",
		"http://h:1":           "",
		"*":                    "*",
	}
	for in, want := range cases {
		if got := string(requestPath([]byte(in))); got != want {
			t.Errorf("requestPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzSplitTarget checks that an accepted path never has a dot segment
// once decoded and that name and rest rebuild it.
func FuzzSplitTarget(f *testing.F) {
	for _, s := range []string{"/a2a/x/y", "/a2a/x/..%2f", "/a2a/x/%2e", "/a2a/x\\..", "/a2a/x/a%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		name, rest, err := splitTarget([]byte(raw))
		if err != nil {
			return
		}
		if Prefix+string(name)+string(rest) != raw || len(name) == 0 || strings.Contains(string(name), "/") {
			t.Fatalf("split %q into %q + %q", raw, name, rest)
		}
		decoded, uerr := url.PathUnescape(string(rest))
		if uerr != nil {
			t.Fatalf("accepted a bad escape: %q", raw)
		}
		for _, seg := range strings.FieldsFunc(decoded, func(r rune) bool { return r == '/' || r == '\\' }) {
			if seg == "." || seg == ".." {
				t.Fatalf("accepted a dot segment: %q", raw)
			}
		}
	})
}
