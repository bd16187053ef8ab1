package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/sidecard/sidecard/controlplane"
	"github.com/sidecard/sidecard/sidecar"
)

func newDevCommand() *cobra.Command {
	var (
		registryDir, dataDir string
		cpCfg                = controlplane.DefaultConfig()
		scCfg                = sidecar.DefaultConfig()
	)
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run a control plane and one sidecar in one process, on the example registry",
		Long: "dev runs a control plane and one sidecar connected over a real gRPC loopback\n" +
			"stream, with the registry from examples/registry/ and data in a temporary\n" +
			"directory that is removed on exit. Ctrl-C stops both.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dataDir == "" {
				tmp, err := os.MkdirTemp("", "sidecard-dev-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(tmp)
				dataDir = tmp
			}
			cpCfg.RegistryDirs = []string{registryDir}
			cpCfg.DataDir = filepath.Join(dataDir, "controlplane")
			scCfg.DataDir = filepath.Join(dataDir, "sidecar")
			scCfg.Node.ID = "dev"
			return runDev(cmd.Context(), cmd, cpCfg, scCfg)
		},
	}
	f := cmd.Flags()
	f.StringVar(&registryDir, "registry-dir", "examples/registry", "registry directory to load")
	f.StringVar(&dataDir, "data", "", "data directory (default: a temporary one, removed on exit)")
	f.StringVar(&cpCfg.XDSAddr, "xds-addr", cpCfg.XDSAddr, "control-plane xDS listen address")
	f.StringVar(&cpCfg.HTTPAddr, "http-addr", cpCfg.HTTPAddr, "control-plane HTTP listen address")
	f.StringVar(&scCfg.Addr, "addr", scCfg.Addr, "sidecar lookup API listen address")
	f.StringVar(&cpCfg.LogLevel, "log-level", cpCfg.LogLevel, "debug, info, warn or error")
	return cmd
}

// runDev starts the control plane, points the sidecar at its xDS address,
// prints where to look, and runs both until ctx is done.
func runDev(ctx context.Context, cmd *cobra.Command, cpCfg controlplane.Config, scCfg sidecar.Config) error {
	log, _, err := newLogger(os.Stderr, cpCfg.LogLevel, "text")
	if err != nil {
		return err
	}
	reg := newMetricsRegistry()
	component := func(name string) prometheus.Registerer {
		return prometheus.WrapRegistererWith(prometheus.Labels{"component": name}, reg)
	}
	cp, err := controlplane.New(cpCfg, controlplane.Deps{
		Logger: log.With("component", "controlplane"), Registerer: component("controlplane"), Gatherer: reg,
	})
	if err != nil {
		return err
	}
	scCfg.ControlPlane.Addresses = []string{cp.XDSAddr()}
	scCfg.ControlPlane.HTTPAddresses = []string{cp.HTTPAddr()}
	sc, err := sidecar.New(scCfg, sidecar.Deps{
		Logger: log.With("component", "sidecar"), Registerer: component("sidecar"), Gatherer: reg,
	})
	if err != nil {
		return fmt.Errorf("%w (and the control plane was not started)", err)
	}
	printDevBanner(cmd, cp.HTTPAddr(), cp.XDSAddr(), sc.Addr())

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Go(func() { errs[0] = cp.Run(ctx); cancel() })
	wg.Go(func() { errs[1] = sc.Run(ctx); cancel() })
	wg.Wait()
	if errs[0] != nil {
		return fmt.Errorf("control plane: %w", errs[0])
	}
	if errs[1] != nil {
		return fmt.Errorf("sidecar: %w", errs[1])
	}
	return nil
}

func printDevBanner(cmd *cobra.Command, cpHTTP, cpXDS, scAddr string) {
	fmt.Fprintf(cmd.OutOrStdout(), `
sidecard dev is running (Ctrl-C to stop)

  sidecar lookup API   http://%[3]s
  control plane API    http://%[1]s
  control plane xDS    %[2]s (gRPC, ADS)

Try:
  curl -s http://%[3]s/v1/agents/weather
  curl -s 'http://%[3]s/v1/agents?skill=forecast'
  curl -s http://%[3]s/v1/status
  curl -s http://%[1]s/v1/sidecars

`, cpHTTP, cpXDS, scAddr)
}
