package xds

import (
	"slices"
	"strings"
	"testing"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/sidecard/sidecard/controlplane/envoy"
)

func TestEnvoyCacheSelectorView(t *testing.T) {
	feed := newFakeFeed()
	feed.put(entry("a", "team=x"))
	feed.put(entry("b", "team=y"))
	c := startEnvoyCache(t, feed, EnvoyCacheOptions{})
	n := node("envoy-x", map[string]string{"team": "x"})
	cds := newSotw(t, c, resourcev3.ClusterType, n)
	rds := newSotw(t, c, resourcev3.RouteType, n, envoy.RouteConfigName)
	lds := newSotw(t, c, resourcev3.ListenerType, n, "a", "b")
	for _, w := range []*sotwWatcher{cds, rds, lds} {
		w.mustWatch()
		defer w.close()
	}
	if got := names(cds.take()); !slices.Equal(got, []string{"agent.a"}) {
		t.Fatalf("clusters %v, want agent.a only", got)
	}
	if got := vhostNames(t, rds.take()); !slices.Equal(got, []string{"a", envoy.PathVirtualHostName}) {
		t.Fatalf("virtual hosts %v", got)
	}
	if got := names(lds.take()); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("listeners %v, want a only", got)
	}
	for _, w := range []*sotwWatcher{cds, rds, lds} {
		w.mustWatch()
	}

	// b joins the selector, a leaves it.
	waitEnvoy(t, c, feed.put(entry("b", "team=x")))
	if got := names(cds.take()); !slices.Equal(got, []string{"agent.a", "agent.b"}) {
		t.Fatalf("clusters after b joined %v", got)
	}
	if got := vhostNames(t, rds.take()); !slices.Equal(got, []string{"a", "b", envoy.PathVirtualHostName}) {
		t.Fatalf("virtual hosts after b joined %v", got)
	}
	cds.mustWatch()
	rds.mustWatch()
	waitEnvoy(t, c, feed.put(entry("a", "team=y")))
	if got := names(cds.take()); !slices.Equal(got, []string{"agent.b"}) {
		t.Fatalf("clusters after a left %v", got)
	}
	if got := vhostNames(t, rds.take()); !slices.Equal(got, []string{"b", envoy.PathVirtualHostName}) {
		t.Fatalf("virtual hosts after a left %v", got)
	}
	if got := value(c.metrics.views); got != 2 {
		t.Errorf("views = %v, want 2", got)
	}
}

func TestEnvoyCacheMaxSelectors(t *testing.T) {
	feed := newFakeFeed()
	feed.put(entry("a", "team=x"))
	c := startEnvoyCache(t, feed, EnvoyCacheOptions{MaxSelectors: 1})
	wx := newSotw(t, c, resourcev3.ClusterType, node("nx", map[string]string{"team": "x"}))
	wx.mustWatch()
	wx.take()
	wx.mustWatch()
	// Answered watches are cancelled when the stream re-arms: the view of
	// team=x stays in use through several rounds.
	for _, name := range []string{"b", "c"} {
		waitEnvoy(t, c, feed.put(entry(name, "team=x")))
		wx.take()
		wx.mustWatch()
	}

	wy := newSotw(t, c, resourcev3.ClusterType, node("ny", map[string]string{"team": "y"}))
	if err := wy.watch(); err == nil || !strings.Contains(err.Error(), "max_selectors") {
		t.Fatalf("watch of a second selector: %v, want a max_selectors error", err)
	}
	if got := value(c.metrics.refused.WithLabelValues(refusedTooMany)); got != 1 {
		t.Errorf("refused = %v, want 1", got)
	}
	// The node without selector is never refused.
	all := newSotw(t, c, resourcev3.ClusterType, node("n", nil))
	all.mustWatch()
	defer all.close()
	if got := names(all.take()); !slices.Equal(got, []string{"agent.a", "agent.b", "agent.c"}) {
		t.Fatalf("clusters of the node without selector %v", got)
	}

	wx.close() // the view of team=x is idle: it makes room
	wy.mustWatch()
	defer wy.close()
	if got := wy.take(); len(got) != 0 {
		t.Fatalf("clusters of team=y %v, want none", names(got))
	}
	if got := value(c.metrics.evictions); got != 1 {
		t.Errorf("evictions = %v, want 1", got)
	}
}

func TestEnvoyCacheBadSelector(t *testing.T) {
	c := startEnvoyCache(t, newFakeFeed(), EnvoyCacheOptions{})
	md, err := structpb.NewStruct(map[string]any{"selector": map[string]any{"team": 3}})
	if err != nil {
		t.Fatal(err)
	}
	w := newSotw(t, c, resourcev3.ClusterType, &core.Node{Id: "bad", Metadata: md})
	if err := w.watch(); err == nil || !strings.Contains(err.Error(), "selector.team") {
		t.Fatalf("watch with a numeric selector value: %v, want an error naming it", err)
	}
	if got := value(c.metrics.refused.WithLabelValues(refusedSelector)); got != 1 {
		t.Errorf("refused = %v, want 1", got)
	}
}
