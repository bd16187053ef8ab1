package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/sidecard/sidecard/controlplane"
)

func newControlPlaneCommand() *cobra.Command {
	var (
		configPath string
		overrides  controlPlaneFlags
	)
	cmd := &cobra.Command{
		Use:   "controlplane",
		Short: "Run the control plane: the registry store, its HTTP API and the xDS server",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadControlPlaneConfig(configPath, cmd, overrides)
			if err != nil {
				return err
			}
			log, level, err := newLogger(os.Stderr, cfg.LogLevel, cfg.LogFormat)
			if err != nil {
				return err
			}
			reg := newMetricsRegistry()
			cp, err := controlplane.New(cfg, controlplane.Deps{
				Logger: log, Registerer: reg, Gatherer: reg, LogLevel: level,
				ConfigPath: configPath, LoadConfig: controlPlaneLoader(configPath, cmd, overrides),
			})
			if err != nil {
				return err
			}
			log.Info("control plane started", "xds_addr", cp.XDSAddr(), "http_addr", cp.HTTPAddr(),
				"data_dir", cfg.DataDir, "version", buildVersion())
			return cp.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVar(&configPath, "config", "", "control-plane config file (YAML); it and the tokens file are watched and reloaded on change")
	f.StringVar(&overrides.dataDir, "data", "", "data directory (config: data_dir)")
	f.StringSliceVar(&overrides.registryDirs, "registry-dir", nil, "registry directory to load, repeatable (config: registry_dirs)")
	f.StringVar(&overrides.xdsAddr, "xds-addr", "", "xDS gRPC listen address (config: xds_addr)")
	f.StringVar(&overrides.httpAddr, "http-addr", "", "HTTP API listen address (config: http_addr)")
	f.StringVar(&overrides.tokensFile, "tokens-file", "", "bearer tokens file for writes (config: auth.tokens_file)")
	f.StringVar(&overrides.logLevel, "log-level", "", "debug, info, warn or error (config: log_level)")
	return cmd
}

// controlPlaneFlags are the flags that override config-file keys.
type controlPlaneFlags struct {
	dataDir, xdsAddr, httpAddr, tokensFile, logLevel string
	registryDirs                                     []string
}

// controlPlaneLoader returns the function a config reload calls: the
// config file read again, with the flags given on the command line applied
// over it, so that they keep winning.
func controlPlaneLoader(path string, cmd *cobra.Command, o controlPlaneFlags) func() (controlplane.Config, error) {
	return func() (controlplane.Config, error) { return loadControlPlaneConfig(path, cmd, o) }
}

// loadControlPlaneConfig reads the config file (or the defaults), lets every
// flag that was set win, and validates the result.
func loadControlPlaneConfig(path string, cmd *cobra.Command, o controlPlaneFlags) (controlplane.Config, error) {
	cfg := controlplane.DefaultConfig()
	if path != "" {
		var err error
		if cfg, err = controlplane.LoadConfig(path); err != nil {
			return cfg, err
		}
	}
	set := cmd.Flags().Changed
	if set("data") {
		cfg.DataDir = o.dataDir
	}
	if set("registry-dir") {
		cfg.RegistryDirs = o.registryDirs
	}
	if set("xds-addr") {
		cfg.XDSAddr = o.xdsAddr
	}
	if set("http-addr") {
		cfg.HTTPAddr = o.httpAddr
	}
	if set("tokens-file") {
		cfg.Auth.TokensFile = o.tokensFile
	}
	if set("log-level") {
		cfg.LogLevel = o.logLevel
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("control-plane config: %w", err)
	}
	return cfg, nil
}
