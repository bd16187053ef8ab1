// Package api serves the control plane's HTTP API (design brief §5): writes
// and reads of registry entries under /v1/agents, the status of the registry
// sources, the connected sidecars, the configuration in effect (GET
// /v1/config, when given a Config), health, readiness and metrics.
//
// Every error is answered in the brief's §4 shape,
//
//	{"error": {"code": "invalid_argument", "message": "...", "field": "..."}}
//
// with the matching status. The package owns no storage and no listener: it
// is handed a Store, a View and the other parts it needs as small interfaces,
// and the caller serves Handler() with a server from NewServer.
package api
