package registry_test

import (
	"strings"
	"testing"

	"github.com/sidecard/sidecard/registry"
)

func TestValidateName(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		wantErr string // "" when valid
	}{
		{"simple", "weather", ""},
		{"digits and dashes", "weather-2-eu", ""},
		{"dotted", "weather.eu-1.prod", ""},
		{"single character", "a", ""},
		{"starts with a digit", "9lives", ""},
		{"longest", strings.Repeat("a", 253), ""},
		{"empty", "", "must not be empty"},
		{"too long", strings.Repeat("a", 254), "at most 253"},
		{"upper case", "Weather", "not a DNS subdomain"},
		{"underscore", "weather_agent", "not a DNS subdomain"},
		{"space", "weather agent", "not a DNS subdomain"},
		{"leading dash", "-weather", "not a DNS subdomain"},
		{"trailing dash", "weather-", "not a DNS subdomain"},
		{"leading dot", ".weather", "not a DNS subdomain"},
		{"trailing dot", "weather.", "not a DNS subdomain"},
		{"double dot", "weather..eu", "not a DNS subdomain"},
		{"dash before dot", "weather-.eu", "not a DNS subdomain"},
		{"dash after dot", "weather.-eu", "not a DNS subdomain"},
		{"slash", "team/weather", "not a DNS subdomain"},
		{"non-ASCII", "wéather", "not a DNS subdomain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := registry.ValidateName(tt.input)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ValidateName(%q) = %v, want nil", tt.input, err)
				}
				return
			}
			wantFieldError(t, err, "name", tt.wantErr)
		})
	}
}

func TestDeriveName(t *testing.T) {
	tests := []struct {
		name     string
		cardName string
		want     string
	}{
		{"lowercased", "Weather", "weather"},
		{"spaces", "Weather Agent", "weather-agent"},
		{"runs of others", "Travel  --  Planner!!", "travel-planner"},
		{"underscores", "currency_exchange_bot", "currency-exchange-bot"},
		{"dot kept", "Agent v2.1", "agent-v2.1"},
		{"dot runs", "a..b", "a-b"},
		{"dot next to others", "a. b", "a-b"},
		{"trimmed", "  --Hello World--  ", "hello-world"},
		{"trimmed dots", "...hello...", "hello"},
		{"non-ASCII dropped", "Café Crème", "caf-cr-me"},
		{"digits", "007", "007"},
		{"nothing usable", "!!! ???", ""},
		{"empty", "", ""},
		{"only non-ASCII", "天气", ""},
		{"truncated", strings.Repeat("ab ", 100), strings.TrimRight(strings.Repeat("ab-", 85)[:253], "-")},
		{"truncated at a separator", strings.Repeat("a", 252) + " b", strings.Repeat("a", 252)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := registry.DeriveName(tt.cardName)
			if got != tt.want {
				t.Fatalf("DeriveName(%q) = %q, want %q", tt.cardName, got, tt.want)
			}
			if got != "" {
				if err := registry.ValidateName(got); err != nil {
					t.Fatalf("derived name %q is invalid: %v", got, err)
				}
			}
		})
	}
}

func FuzzDeriveName(f *testing.F) {
	for _, s := range []string{"Weather Agent", "a. b", "...", "Agent v2.1", "İstanbul Ķ", strings.Repeat("x.", 200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, cardName string) {
		got := registry.DeriveName(cardName)
		if got == "" {
			return
		}
		if err := registry.ValidateName(got); err != nil {
			t.Fatalf("DeriveName(%q) = %q, which is invalid: %v", cardName, got, err)
		}
		if registry.DeriveName(got) != got {
			t.Fatalf("DeriveName is not idempotent on %q", got)
		}
	})
}
