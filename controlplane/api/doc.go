// Package api serves the control plane's HTTP API (design brief §5): writes
// and reads of registry entries under /v1/agents, the status of the registry
// sources, the connected sidecars, the configuration in effect (GET
// /v1/config, when given a Config), health, readiness and metrics.
//
// Every error is answered in the brief's §4 shape,
//
//	{"error": {"code": "invalid_argument", "message": "...", "field": "..."}}
//
// with the matching status.
//
// With tokens configured (Options.Tokens), writes need a token with the
// write scope, and reads one with the read scope when
// Options.RequireReadToken says so: 401 "unauthenticated" without a
// configured token, 403 "permission_denied" with a token lacking the scope.
// A write registers an entry to its token's name (registered_by, shown in
// every entry the API answers); only that token, or one with the admin
// scope, may update, renew or delete it afterwards (403
// "permission_denied"), which the store checks in the write itself.
//
// The package owns no storage and no listener: it is handed a Store, a View
// and the other parts it needs as small interfaces, and the caller serves
// Handler() with a server from NewServer.
package api
