package loadtest

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

func TestConfigValidate(t *testing.T) {
	req := [][]byte{GET("/")}
	cases := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{name: "loopback v4", cfg: Config{Addr: "127.0.0.1:80", Requests: req, Conns: 1, Duration: time.Second}},
		{name: "loopback v6", cfg: Config{Addr: "[::1]:80", Requests: req, Conns: 1, Duration: time.Second}},
		{name: "localhost", cfg: Config{Addr: "localhost:80", Requests: req, Conns: 1, Duration: time.Second}},
		{name: "remote", cfg: Config{Addr: "10.0.0.1:80", Requests: req, Conns: 1, Duration: time.Second},
			wantErr: "not loopback"},
		{name: "hostname", cfg: Config{Addr: "example.org:80", Requests: req, Conns: 1, Duration: time.Second},
			wantErr: "not loopback"},
		{name: "no port", cfg: Config{Addr: "127.0.0.1", Requests: req, Conns: 1, Duration: time.Second},
			wantErr: "missing port"},
		{name: "no requests", cfg: Config{Addr: "127.0.0.1:80", Conns: 1, Duration: time.Second}, wantErr: "no requests"},
		{name: "no conns", cfg: Config{Addr: "127.0.0.1:80", Requests: req, Duration: time.Second}, wantErr: "Conns"},
		{name: "no duration", cfg: Config{Addr: "127.0.0.1:80", Requests: req, Conns: 1}, wantErr: "Duration"},
		{name: "negative rate", cfg: Config{Addr: "127.0.0.1:80", Requests: req, Conns: 1, Duration: time.Second, Rate: -1},
			wantErr: "Rate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.cfg.validate()
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("validate() = %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.MaxRequests != maxRequests {
				t.Errorf("MaxRequests = %d, want the bound %d", got.MaxRequests, maxRequests)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	cases := []struct {
		name     string
		response string
		status   int
		wantErr  string
	}{
		{name: "200", response: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello", status: 200},
		{name: "lowercase length", response: "HTTP/1.1 404 Not Found\r\ncontent-length: 2\r\n\r\n{}", status: 404},
		{name: "304 without length", response: "HTTP/1.1 304 Not Modified\r\nEtag: \"3\"\r\n\r\n", status: 304},
		{name: "200 without length", response: "HTTP/1.1 200 OK\r\n\r\n", wantErr: "without Content-Length"},
		{name: "bad length", response: "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", wantErr: "bad Content-Length"},
		{name: "not HTTP", response: "SSH-2.0-OpenSSH\r\n\r\n", wantErr: "bad status line"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			client, server := net.Pipe()
			defer client.Close()
			go func() {
				defer server.Close()
				// The request: read it whole, then answer.
				br := bufio.NewReader(server)
				for {
					line, err := br.ReadString('\n')
					if err != nil || line == "\r\n" {
						break
					}
				}
				_, _ = server.Write([]byte(c.response + "NEXT"))
			}()
			br := bufio.NewReader(client)
			status, err := roundTrip(client, br, GET("/x"))
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("roundTrip() = %d, %v; want error %q", status, err, c.wantErr)
				}
				return
			}
			if err != nil || status != c.status {
				t.Fatalf("roundTrip() = %d, %v; want %d", status, err, c.status)
			}
			if rest, _ := br.Peek(4); string(rest) != "NEXT" {
				t.Errorf("body not consumed exactly: next bytes %q", rest)
			}
		})
	}
}

// TestRunAgainstReference runs a short bounded load against the reference
// server on loopback.
func TestRunAgainstReference(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: Reference([]byte(`{"ok":true}`), [2]string{"Content-Type", "application/json"})}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	defer func() {
		if err := srv.Shutdown(); err != nil {
			t.Error(err)
		}
		<-done
	}()
	cases := []struct {
		name string
		rate float64
	}{
		{name: "closed loop", rate: 0},
		{name: "open loop", rate: 2000},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := Run(context.Background(), Config{
				Addr: ln.Addr().String(), Requests: [][]byte{GET("/a"), GET("/b")},
				Conns: 4, Duration: 5 * time.Second, Rate: c.rate, MaxRequests: 300,
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Err != nil || res.Requests != 300 || res.Statuses[200] != 300 || res.Non2xx() != 0 {
				t.Fatalf("result = %+v", res)
			}
			if res.Throughput() <= 0 || res.Percentile(0.5) <= 0 || res.Percentile(0.99) < res.Percentile(0.5) {
				t.Errorf("throughput %v, p50 %v, p99 %v", res.Throughput(), res.Percentile(0.5), res.Percentile(0.99))
			}
		})
	}
}
