// Command agent is one of the two tiny A2A agents of the sidecard
// walk-through (see ../README.md): it serves its agent card and answers
// message/send, registers itself through its own sidecar, and calls its
// peer by name through that sidecar.
//
//	go run ./examples/walkthrough/agent -name alice -port 9101 -sidecar 127.0.0.1:17101 -peer bob
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

func main() {
	var (
		name    = flag.String("name", "alice", "the agent's name (a DNS-style name: lowercase letters, digits, '-')")
		port    = flag.Int("port", 9101, "the port to serve the agent on, on 127.0.0.1")
		sidecar = flag.String("sidecar", "127.0.0.1:17000", "host:port of this agent's own sidecar")
		peer    = flag.String("peer", "", "the name of the agent to talk to; none: only answer")
		rounds  = flag.Int("rounds", 3, "messages to send to the peer")
		pause   = flag.Duration("pause", time.Second, "time between two messages")
		wait    = flag.Duration("wait", time.Minute, "how long to keep trying to register and to reach the peer")
	)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a := &agent{
		name: *name, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(*port)), sidecar: *sidecar,
		client: &http.Client{Timeout: 10 * time.Second},
		say: func(format string, args ...any) {
			fmt.Printf("[%s] %s\n", *name, fmt.Sprintf(format, args...))
		},
	}
	if err := run(ctx, a, *peer, *rounds, *pause, *wait); err != nil {
		fmt.Fprintf(os.Stderr, "[%s] %v\n", *name, err)
		os.Exit(1)
	}
}

// run serves the agent until ctx ends, registering it and, with a peer,
// talking to it meanwhile. A failure to register or to reach the peer
// within wait ends it with an error.
func run(ctx context.Context, a *agent, peer string, rounds int, pause, wait time.Duration) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	served := make(chan error, 1)
	listening := make(chan struct{})
	go func() {
		served <- a.serve(ctx, func(addr string) {
			a.say("serving its agent card on http://%s/.well-known/agent-card.json", addr)
			close(listening)
		})
	}()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-listening:
	}
	talk := func() error {
		deadline, done := context.WithTimeout(ctx, wait)
		defer done()
		if err := a.register(deadline); err != nil {
			return fmt.Errorf("register through the sidecar: %w", err)
		}
		if peer == "" {
			return nil
		}
		if err := a.converse(deadline, peer, rounds, pause); err != nil {
			return err
		}
		a.say("done talking to %s; still answering (Ctrl-C to stop)", peer)
		return nil
	}
	if err := talk(); err != nil {
		stopped := ctx.Err() != nil // asked to stop: not a failure
		cancel(err)
		<-served
		if stopped {
			return nil
		}
		return err
	}
	return <-served
}
