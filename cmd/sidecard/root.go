package main

import (
	"github.com/spf13/cobra"
)

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "sidecard",
		Short:         "An agent-registry sidecar and its control plane",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		newVersionCommand(),
		newControlPlaneCommand(),
		newSidecarCommand(),
		newDevCommand(),
		newGetCommand(),
		newSearchCommand(),
		newStatusCommand(),
	)
	return root
}
