package lookup

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp/fasthttputil"
)

func TestNewServerLimits(t *testing.T) {
	e := newEnv(t, testEntries(t), nil)
	cases := []struct {
		name string
		opts ServerOptions
		want ServerOptions
	}{
		{name: "defaults", opts: ServerOptions{}, want: DefaultServerOptions()},
		{name: "explicit", opts: ServerOptions{ReadTimeout: time.Second, WriteTimeout: 2 * time.Second,
			IdleTimeout: 3 * time.Second, MaxRequestBodySize: 100, ReadBufferSize: 2048},
			want: ServerOptions{ReadTimeout: time.Second, WriteTimeout: 2 * time.Second,
				IdleTimeout: 3 * time.Second, MaxRequestBodySize: 100, ReadBufferSize: 2048}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := NewServer(e.h, c.opts)
			got := ServerOptions{ReadTimeout: s.ReadTimeout, WriteTimeout: s.WriteTimeout, IdleTimeout: s.IdleTimeout,
				MaxRequestBodySize: s.MaxRequestBodySize, ReadBufferSize: s.ReadBufferSize}
			if got != c.want {
				t.Errorf("limits = %+v, want %+v", got, c.want)
			}
			if s.Name != "sidecard" || s.Handler == nil || s.ErrorHandler == nil || s.Logger == nil {
				t.Errorf("server = %+v", s)
			}
		})
	}
}

// TestServerErrors checks that requests fasthttp refuses before the
// handler are answered in the §4 shape.
func TestServerErrors(t *testing.T) {
	cases := []struct {
		name    string
		request string
		status  int
		code    string
	}{
		{name: "malformed", request: "NONSENSE\r\n\r\n", status: 400, code: codeInvalidArgument},
		{name: "headers too large", request: "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 10<<10) + "\r\n\r\n",
			status: 431, code: codeInvalidArgument},
		{name: "body too large", request: "POST /v1/agents HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" + strings.Repeat("a", 5000),
			status: 413, code: "payload_too_large"},
	}
	e := newEnv(t, testEntries(t), nil)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ln := fasthttputil.NewInmemoryListener()
			srv := NewServer(e.h, ServerOptions{})
			done := make(chan error, 1)
			go func() { done <- srv.Serve(ln) }()
			defer func() {
				if err := srv.Shutdown(); err != nil {
					t.Error(err)
				}
				<-done
			}()
			conn, err := ln.Dial()
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			// The server may answer before reading everything; the write
			// then fails when conn is closed, ending the goroutine.
			go func() { _, _ = io.WriteString(conn, c.request) }()
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, body)
			}
			if d := errorOf(t, string(body)); d.Code != c.code {
				t.Errorf("code %q, want %q", d.Code, c.code)
			}
		})
	}
}
