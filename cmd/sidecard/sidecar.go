package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/sidecard/sidecard/sidecar"
)

func newSidecarCommand() *cobra.Command {
	var (
		configPath string
		o          sidecarFlags
	)
	cmd := &cobra.Command{
		Use:   "sidecar",
		Short: "Run a sidecar: replicate the registry and answer lookups on loopback",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadSidecarConfig(configPath, cmd, o)
			if err != nil {
				return err
			}
			log, level, err := newLogger(os.Stderr, cfg.LogLevel, cfg.LogFormat)
			if err != nil {
				return err
			}
			reg := newMetricsRegistry()
			deps := sidecar.Deps{Logger: log, Registerer: reg, Gatherer: reg, LogLevel: level, ConfigPath: configPath}
			if configPath != "" {
				deps.LoadConfig = sidecarLoader(configPath, cmd, o)
			}
			sc, err := sidecar.New(cfg, deps)
			if err != nil {
				return err
			}
			log.Info("sidecar started", "addr", sc.Addr(), "node_id", cfg.Node.ID,
				"controlplane", cfg.ControlPlane.Addresses, "data_dir", cfg.DataDir, "version", buildVersion())
			return sc.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVar(&configPath, "config", "", "sidecar config file (YAML); watched and reloaded on change")
	f.StringSliceVar(&o.controlPlanes, "controlplane", nil, "control-plane xDS addresses, comma-separated (config: controlplane.addresses)")
	f.StringVar(&o.addr, "addr", "", "lookup API listen address (config: addr)")
	f.StringVar(&o.nodeID, "node-id", "", "node id, default the host name (config: node.id)")
	f.StringVar(&o.dataDir, "data", "", "data directory for the replica snapshot (config: data_dir)")
	f.StringToStringVar(&o.selector, "selector", nil, "label selector k=v,... of the entries to replicate (config: subscribe.selector)")
	f.StringVar(&o.logLevel, "log-level", "", "debug, info, warn or error (config: log_level)")
	return cmd
}

// sidecarFlags are the flags that override config-file keys.
type sidecarFlags struct {
	controlPlanes                   []string
	addr, nodeID, dataDir, logLevel string
	selector                        map[string]string
}

// sidecarLoader returns the function a config reload calls: the config
// file read again, with the flags given on the command line applied over
// it, so that they keep winning.
func sidecarLoader(path string, cmd *cobra.Command, o sidecarFlags) func() (sidecar.Config, error) {
	return func() (sidecar.Config, error) { return loadSidecarConfig(path, cmd, o) }
}

// loadSidecarConfig reads the config file (or the defaults), lets every flag
// that was set win, fills in the node id from the host name, and validates.
func loadSidecarConfig(path string, cmd *cobra.Command, o sidecarFlags) (sidecar.Config, error) {
	cfg := sidecar.DefaultConfig()
	if path != "" {
		var err error
		if cfg, err = sidecar.LoadConfig(path); err != nil {
			return cfg, err
		}
	}
	set := cmd.Flags().Changed
	if set("controlplane") {
		cfg.ControlPlane.Addresses = o.controlPlanes
	}
	if set("addr") {
		cfg.Addr = o.addr
	}
	if set("node-id") {
		cfg.Node.ID = o.nodeID
	}
	if set("data") {
		cfg.DataDir = o.dataDir
	}
	if set("selector") {
		cfg.Subscribe.Selector = o.selector
	}
	if set("log-level") {
		cfg.LogLevel = o.logLevel
	}
	if cfg.Node.ID == "" {
		host, err := os.Hostname()
		if err != nil {
			return cfg, fmt.Errorf("node id: none configured and no host name: %w", err)
		}
		cfg.Node.ID = host
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("sidecar config: %w", err)
	}
	return cfg, nil
}
