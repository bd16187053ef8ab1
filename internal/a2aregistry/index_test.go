package a2aregistry

import (
	"maps"
	"slices"
	"testing"

	"github.com/sidecard/sidecard/registry"
)

// TestMergeRegistration checks what a registration keeps of the entry it
// replaces.
func TestMergeRegistration(t *testing.T) {
	oldCard := card(t, "Weather", "http://old.internal:9001", "forecast")
	newCard := card(t, "Weather", "http://new.internal:9001", "forecast")
	custom := []registry.Endpoint{{URL: "http://10.0.0.7:9001", Weight: 3}}
	tests := []struct {
		name          string
		e, existing   *registry.Entry
		wantLabels    map[string]string
		wantTTL       int64
		wantEndpoints []registry.Endpoint
	}{
		{
			name:          "default endpoints follow the new card",
			e:             entry("weather", newCard, nil),
			existing:      entry("weather", oldCard, map[string]string{"team": "a"}),
			wantLabels:    map[string]string{"team": "a"},
			wantEndpoints: newCard.DefaultEndpoints(),
		},
		{
			name: "custom endpoints and ttl are kept",
			e:    entry("weather", newCard, nil),
			existing: &registry.Entry{Name: "weather", Card: oldCard, Endpoints: custom, TTLSeconds: 30,
				Labels: map[string]string{LabelNormalised: "true", "team": "a"}},
			wantLabels:    map[string]string{"team": "a"},
			wantTTL:       30,
			wantEndpoints: custom,
		},
		{
			// The existing entry has no labels: the new card's normalised
			// label must still be set (a nil map must not be written to).
			name:          "normalised card over an entry without labels",
			e:             entry("weather", newCard, map[string]string{LabelNormalised: "true"}),
			existing:      entry("weather", oldCard, nil),
			wantLabels:    map[string]string{LabelNormalised: "true"},
			wantEndpoints: newCard.DefaultEndpoints(),
		},
		{
			name:          "new labels win",
			e:             entry("weather", newCard, map[string]string{"team": "b"}),
			existing:      entry("weather", oldCard, map[string]string{"team": "a", "zone": "eu"}),
			wantLabels:    map[string]string{"team": "b", "zone": "eu"},
			wantEndpoints: newCard.DefaultEndpoints(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.existing.Clone()
			got := MergeRegistration(tt.e, tt.existing)
			if !maps.Equal(got.Labels, tt.wantLabels) {
				t.Errorf("labels %v, want %v", got.Labels, tt.wantLabels)
			}
			if got.TTLSeconds != tt.wantTTL {
				t.Errorf("ttl %d, want %d", got.TTLSeconds, tt.wantTTL)
			}
			if !slices.Equal(got.Endpoints, tt.wantEndpoints) {
				t.Errorf("endpoints %v, want %v", got.Endpoints, tt.wantEndpoints)
			}
			if got.Card != tt.e.Card || got.Name != tt.e.Name {
				t.Errorf("merged entry lost the new card or name: %+v", got)
			}
			if !tt.existing.ContentEqual(before) || !maps.Equal(tt.existing.Labels, before.Labels) {
				t.Errorf("existing entry modified: %+v", tt.existing)
			}
		})
	}
}

// TestListSearchIndex checks listing and searching an index: name order,
// limits, and skills OR-ed together.
func TestListSearchIndex(t *testing.T) {
	ix := registry.NewIndex(
		entry("alpha", card(t, "Alpha", "http://a:1", "forecast"), nil),
		entry("bravo", card(t, "Bravo", "http://b:1", "translate"), nil),
		entry("charlie", card(t, "Charlie", "http://c:1", "forecast", "translate"), nil),
		entry("delta", card(t, "Delta", "http://d:1", "sing"), nil),
	)
	names := func(es []*registry.Entry) []string {
		out := []string{}
		for _, e := range es {
			out = append(out, e.Name)
		}
		return out
	}
	if got := names(ListIndex(ix, 3)); !slices.Equal(got, []string{"alpha", "bravo", "charlie"}) {
		t.Errorf("ListIndex(3) = %v", got)
	}
	if got := names(ListIndex(ix, 0)); len(got) != 0 {
		t.Errorf("ListIndex(0) = %v", got)
	}
	tests := []struct {
		name   string
		query  string
		skills []string
		limit  int
		want   []string
	}{
		{"everything", "", nil, 10, []string{"alpha", "bravo", "charlie", "delta"}},
		{"text", "CHAR", nil, 10, []string{"charlie"}},
		{"one skill", "", []string{"forecast"}, 10, []string{"alpha", "charlie"}},
		{"skills or", "", []string{"forecast", "sing"}, 10, []string{"alpha", "charlie", "delta"}},
		{"skills or, limited", "", []string{"sing", "translate"}, 2, []string{"bravo", "charlie"}},
		{"text and skill", "alpha", []string{"forecast"}, 10, []string{"alpha"}},
		{"nothing", "zulu", nil, 10, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SearchIndex(ix, tt.query, tt.skills, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(names(got), tt.want) {
				t.Errorf("SearchIndex = %v, want %v", names(got), tt.want)
			}
		})
	}
}
