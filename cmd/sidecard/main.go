// Command sidecard is the one binary of sidecard: the control plane, the
// sidecar, a development mode running both, and small clients for humans.
//
// main only wires: flags → config → constructors → Run. Loggers, the
// Prometheus registry, the environment and signals are handled here and
// nowhere else.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCommand().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "sidecard:", err)
		stop()
		os.Exit(1)
	}
}
