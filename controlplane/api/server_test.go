package api

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"
)

func TestNewServer(t *testing.T) {
	d := DefaultTimeouts()
	tests := []struct {
		name string
		in   Timeouts
		want Timeouts
	}{
		{name: "defaults", want: d},
		{
			name: "overrides",
			in:   Timeouts{ReadHeader: time.Second, Read: 2 * time.Second, Write: 3 * time.Second, Idle: 4 * time.Second, MaxHeaderBytes: 1024},
			want: Timeouts{ReadHeader: time.Second, Read: 2 * time.Second, Write: 3 * time.Second, Idle: 4 * time.Second, MaxHeaderBytes: 1024},
		},
		{
			name: "partial",
			in:   Timeouts{Write: time.Minute},
			want: Timeouts{ReadHeader: d.ReadHeader, Read: d.Read, Write: time.Minute, Idle: d.Idle, MaxHeaderBytes: d.MaxHeaderBytes},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewServer("127.0.0.1:0", http.NotFoundHandler(), tt.in)
			got := Timeouts{ReadHeader: s.ReadHeaderTimeout, Read: s.ReadTimeout, Write: s.WriteTimeout, Idle: s.IdleTimeout, MaxHeaderBytes: s.MaxHeaderBytes}
			if got != tt.want || s.Addr != "127.0.0.1:0" || s.Handler == nil {
				t.Fatalf("server limits = %+v, want %+v", got, tt.want)
			}
		})
	}
	if d.Write <= DefaultViewWait {
		t.Fatalf("default write timeout %v does not exceed the view wait %v", d.Write, DefaultViewWait)
	}
}

func TestServeOverTCP(t *testing.T) {
	st := seeded(t, seed{name: "weather", rev: 7})
	a, _ := newTestAPI(t, Options{Store: st, View: st})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(ln.Addr().String(), a.Handler(), Timeouts{})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve = %v, want ErrServerClosed", err)
		}
	})
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + ln.Addr().String() + "/v1/agents/weather")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") != `"7"` {
		t.Fatalf("status %d, ETag %q; want 200, \"7\"", resp.StatusCode, resp.Header.Get("ETag"))
	}
}
