package lookup

import (
	"bytes"
	"strings"

	"github.com/valyala/fasthttp"
)

// routeID indexes Handler.routes: the built-in routes first, then mounts.
type routeID int

// The built-in routes.
const (
	routeEntry   routeID = iota // GET /v1/agents/{name}
	routeCard                   // GET /v1/agents/{name}/card
	routeSearch                 // GET /v1/agents?...
	routeStatus                 // GET /v1/status
	routeHealthz                // GET /healthz
	routeReadyz                 // GET /readyz
	routeMetrics                // GET /metrics
	routeUnknown                // anything else: 404
	numBuiltinRoutes
)

// agentsPrefix is the path prefix of the entry and card routes.
const agentsPrefix = "/v1/agents/"

// Byte forms of constants, so that matching does not convert per request.
var (
	agentsPrefixBytes = []byte(agentsPrefix)
	slash             = []byte("/")
	allowGet          = []byte("GET, HEAD") // the Allow header of a 405 on a built-in route
)

// route is one row of the routing table.
type route struct {
	label string // the "route" metric label
	path  string // the exact path of a built-in route
	// prefix is the path prefix of a mount.
	prefix []byte
	// lookup routes carry X-Sidecard-Stale-Seconds while the sidecar is stale.
	lookup bool
	// serve answers GET and HEAD on a built-in route; arg is the agent name
	// for the entry and card routes. Other methods get a 405.
	serve func(h *Handler, ctx *fasthttp.RequestCtx, arg []byte)
	// mount answers any method on a mounted prefix.
	mount fasthttp.RequestHandler
}

// builtinRoutes are the routes every Handler serves, indexed by routeID.
var builtinRoutes = [numBuiltinRoutes]route{
	routeEntry:   {label: "entry", lookup: true, serve: (*Handler).serveEntry},
	routeCard:    {label: "card", lookup: true, serve: (*Handler).serveCard},
	routeSearch:  {label: "search", path: "/v1/agents", lookup: true, serve: (*Handler).serveSearch},
	routeStatus:  {label: "status", path: "/v1/status", serve: (*Handler).serveStatus},
	routeHealthz: {label: "healthz", path: "/healthz", serve: (*Handler).serveHealthz},
	routeReadyz:  {label: "readyz", path: "/readyz", serve: (*Handler).serveReadyz},
	routeMetrics: {label: "metrics", path: "/metrics", serve: (*Handler).serveMetrics},
	routeUnknown: {label: "unknown", serve: (*Handler).serveUnknown},
}

// router maps a request path to its route. It is immutable after newRouter
// and safe for concurrent use.
type router struct {
	routes []route            // builtinRoutes, then one per mount
	exact  map[string]routeID // exact paths: built-in, and of mounts
	mounts []routeID          // mount routes with a prefix, in Options order
}

// newRouter returns the routing table of the built-in routes and mounts,
// which Options.Validate has checked.
func newRouter(mounts []Mount) *router {
	rt := &router{routes: append([]route(nil), builtinRoutes[:]...), exact: map[string]routeID{}}
	for id, r := range builtinRoutes {
		if r.path != "" {
			rt.exact[r.path] = routeID(id)
		}
	}
	for _, m := range mounts {
		id := routeID(len(rt.routes))
		if m.Prefix != "" {
			rt.mounts = append(rt.mounts, id)
		}
		for _, p := range m.Paths {
			rt.exact[p] = id
		}
		rt.routes = append(rt.routes, route{label: m.Route, prefix: []byte(m.Prefix), mount: m.Handler})
	}
	return rt
}

// match returns the route of path and its argument: the agent name for the
// entry and card routes (a sub-slice of path), the rest of the path after
// a mount's prefix, nil otherwise. It does not allocate.
func (rt *router) match(path []byte) (routeID, []byte) {
	if id, ok := rt.exact[string(path)]; ok {
		return id, nil
	}
	if rest, ok := bytes.CutPrefix(path, agentsPrefixBytes); ok {
		return matchAgent(rest)
	}
	for _, id := range rt.mounts {
		if rest, ok := bytes.CutPrefix(path, rt.routes[id].prefix); ok {
			return id, rest
		}
	}
	return routeUnknown, nil
}

// matchAgent routes the part of a path after "/v1/agents/": "{name}" is
// the entry, "{name}/card" the card, anything longer is unknown.
func matchAgent(rest []byte) (routeID, []byte) {
	name, sub, found := bytes.Cut(rest, slash)
	switch {
	case !found:
		return routeEntry, name
	case string(sub) == "card":
		return routeCard, name
	default:
		return routeUnknown, nil
	}
}

// overlapsBuiltin reports whether a mount prefix would capture or be
// shadowed by a built-in route.
func overlapsBuiltin(prefix string) bool {
	if strings.HasPrefix(prefix, agentsPrefix) || strings.HasPrefix(agentsPrefix, prefix) {
		return true
	}
	for _, r := range builtinRoutes {
		if r.path != "" && strings.HasPrefix(r.path, prefix) {
			return true
		}
	}
	return false
}
