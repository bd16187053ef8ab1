package sidecar

import (
	"context"
	"fmt"

	"github.com/valyala/fasthttp"

	"github.com/sidecard/sidecard/cache"
	"github.com/sidecard/sidecard/sidecar/compat"
	"github.com/sidecard/sidecard/sidecar/lookup"
	"github.com/sidecard/sidecard/sidecar/register"
)

// agents are the parts through which co-located agents write to the
// registry: registration through the sidecar (PUT and DELETE
// /v1/agents/{name}, kept alive while healthy) and the A2A Registry
// compatible API (/agents, /jsonrpc, /health), both forwarding to the
// control plane's HTTP API with the sidecar's token.
type agents struct {
	client    *register.Client
	registrar *register.Registrar
	compat    *compat.Handler
}

// buildAgents builds the control-plane client (reading the token file),
// the registrar and the compat API over replica.
func buildAgents(cfg Config, replica *cache.Replica, ready func() bool, deps Deps) (*agents, error) {
	token := ""
	if cfg.ControlPlane.TokenFile != "" {
		var err error
		if token, err = register.LoadToken(cfg.ControlPlane.TokenFile); err != nil {
			return nil, fmt.Errorf("controlplane.token_file: %w", err)
		}
	}
	a := &agents{}
	var err error
	if a.client, err = register.NewClient(register.ClientOptions{
		Addresses: register.HTTPAddresses(cfg.ControlPlane.HTTPAddresses, cfg.ControlPlane.Addresses),
		Token:     token, NodeID: cfg.Node.ID, Logger: deps.Logger, Registerer: deps.Registerer,
	}); err != nil {
		return nil, fmt.Errorf("build control-plane HTTP client: %w", err)
	}
	if a.registrar, err = register.New(cfg.Register, register.Deps{
		ControlPlane: a.client, Logger: deps.Logger, Registerer: deps.Registerer,
	}); err != nil {
		return nil, fmt.Errorf("build registrar: %w", err)
	}
	reg, err := compat.NewReplicaRegistry(replica, a.client, 0)
	if err != nil {
		return nil, err
	}
	if a.compat, err = compat.New(compat.Options{
		Registry: reg, Ready: ready, Logger: deps.Logger, Registerer: deps.Registerer,
	}); err != nil {
		return nil, fmt.Errorf("build compat API: %w", err)
	}
	return a, nil
}

// mount is the compat API's route on the lookup server.
func (a *agents) mount() lookup.Mount {
	return lookup.Mount{Prefix: compat.Prefix, Paths: compat.Paths, Route: "compat", Handler: a.compat.Serve}
}

// hook gives the registration and compat requests their body limits, and
// the compat API's bodies over the limit its error shape, on server.
func (a *agents) hook(server *fasthttp.Server) {
	server.HeaderReceived = a.compat.RequestConfig(register.RequestConfig(server.HeaderReceived))
	server.ErrorHandler = a.compat.ErrorHandler(server.ErrorHandler)
}

// run runs the registrar until ctx ends (then deregisters the agents) and
// closes the client's connections.
func (a *agents) run(ctx context.Context) error {
	defer a.client.Close()
	return a.registrar.Run(ctx)
}
