package registry

import (
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestParseQuery(t *testing.T) {
	long := strings.Repeat("a", queryMaxValueBytes)
	tests := []struct {
		name string
		raw  string
		want Query
	}{
		{name: "empty", raw: "", want: Query{Limit: DefaultLimit}},
		{
			name: "every parameter",
			raw:  "skill=Forecast&skill=nowcast&tag=weather&label=team=forecast&label=zone=eu-1&q=Rain&limit=7&cursor=" + encodeCursor("alpha"),
			want: Query{
				Skills: []string{"Forecast", "nowcast"},
				Tags:   []string{"weather"},
				Labels: []Label{{Key: "team", Value: "forecast"}, {Key: "zone", Value: "eu-1"}},
				Text:   "Rain",
				Limit:  7,
				Cursor: encodeCursor("alpha"),
			},
		},
		{name: "label value with equals sign", raw: "label=" + url.QueryEscape("k=a=b"), want: Query{Labels: []Label{{Key: "k", Value: "a=b"}}, Limit: DefaultLimit}},
		{name: "label with empty value", raw: "label=" + url.QueryEscape("k="), want: Query{Labels: []Label{{Key: "k", Value: ""}}, Limit: DefaultLimit}},
		{name: "limit one", raw: "limit=1", want: Query{Limit: 1}},
		{name: "limit max", raw: "limit=1000", want: Query{Limit: MaxLimit}},
		{name: "value at the size bound", raw: "q=" + long, want: Query{Text: long, Limit: DefaultLimit}},
		{name: "sixteen values", raw: strings.Repeat("tag=x&", queryMaxValues-1) + "tag=x", want: Query{Tags: slices.Repeat([]string{"x"}, queryMaxValues), Limit: DefaultLimit}},
		{name: "cursor of the longest name", raw: "cursor=" + encodeCursor(strings.Repeat("a", 253)), want: Query{Cursor: encodeCursor(strings.Repeat("a", 253)), Limit: DefaultLimit}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseQuery(mustParseValues(t, tt.raw))
			if err != nil {
				t.Fatalf("ParseQuery(%q): %v", tt.raw, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseQuery(%q) = %+v, want %+v", tt.raw, got, tt.want)
			}
		})
	}
}

func TestParseQueryErrors(t *testing.T) {
	tooLong := strings.Repeat("a", queryMaxValueBytes+1)
	tests := []struct {
		name      string
		raw       string
		wantField string
		wantMsg   string
	}{
		{name: "unknown parameter", raw: "skills=x", wantField: "skills", wantMsg: "unknown query parameter"},
		{name: "smallest unknown reported", raw: "zz=1&aa=1&skill=x", wantField: "aa", wantMsg: "unknown query parameter"},
		{name: "unknown name truncated", raw: strings.Repeat("k", 100) + "=1", wantField: strings.Repeat("k", queryMaxFieldEcho) + "...", wantMsg: "unknown query parameter"},
		{name: "empty skill", raw: "skill=", wantField: "skill", wantMsg: "must not be empty"},
		{name: "empty tag among others", raw: "tag=a&tag=", wantField: "tag", wantMsg: "must not be empty"},
		{name: "empty label", raw: "label=", wantField: "label", wantMsg: "must not be empty"},
		{name: "empty q", raw: "q=", wantField: "q", wantMsg: "must not be empty"},
		{name: "empty limit", raw: "limit=", wantField: "limit", wantMsg: "must not be empty"},
		{name: "empty cursor", raw: "cursor=", wantField: "cursor", wantMsg: "must not be empty"},
		{name: "too many skills", raw: strings.Repeat("skill=x&", queryMaxValues) + "skill=x", wantField: "skill", wantMsg: "at most 16 values allowed"},
		{name: "too many labels", raw: strings.Repeat("label=a%3Db&", queryMaxValues) + "label=a%3Db", wantField: "label", wantMsg: "at most 16 values allowed"},
		{name: "skill too long", raw: "skill=" + tooLong, wantField: "skill", wantMsg: "must be at most 256 bytes"},
		{name: "q too long", raw: "q=" + tooLong, wantField: "q", wantMsg: "must be at most 256 bytes"},
		{name: "cursor too long", raw: "cursor=" + strings.Repeat("a", queryMaxCursorBytes+1), wantField: "cursor", wantMsg: "must be at most 344 bytes"},
		{name: "label without equals", raw: "label=team", wantField: "label", wantMsg: "must be key=value"},
		{name: "label with empty key", raw: "label=%3Dx", wantField: "label", wantMsg: "must be key=value"},
		{name: "q repeated", raw: "q=a&q=b", wantField: "q", wantMsg: "must be given at most once"},
		{name: "limit repeated", raw: "limit=1&limit=2", wantField: "limit", wantMsg: "must be given at most once"},
		{name: "cursor repeated", raw: "cursor=YQ&cursor=Yg", wantField: "cursor", wantMsg: "must be given at most once"},
		{name: "limit not a number", raw: "limit=ten", wantField: "limit", wantMsg: "must be an integer between 1 and 1000"},
		{name: "limit zero", raw: "limit=0", wantField: "limit", wantMsg: "must be an integer between 1 and 1000"},
		{name: "limit negative", raw: "limit=-1", wantField: "limit", wantMsg: "must be an integer between 1 and 1000"},
		{name: "limit above max", raw: "limit=1001", wantField: "limit", wantMsg: "must be an integer between 1 and 1000"},
		{name: "limit overflow", raw: "limit=99999999999999999999", wantField: "limit", wantMsg: "must be an integer between 1 and 1000"},
		{name: "cursor not base64url", raw: "cursor=%2F%2F%2F", wantField: "cursor", wantMsg: "invalid cursor"},
		{name: "cursor with padding", raw: "cursor=YQ%3D%3D", wantField: "cursor", wantMsg: "invalid cursor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := ParseQuery(mustParseValues(t, tt.raw))
			if err == nil {
				t.Fatalf("ParseQuery(%q) = %+v, want an error", tt.raw, q)
			}
			fe, ok := AsFieldError(err)
			if !ok {
				t.Fatalf("ParseQuery(%q) error %v is not a *FieldError", tt.raw, err)
			}
			if fe.Field != tt.wantField || fe.Message != tt.wantMsg {
				t.Fatalf("ParseQuery(%q) error = {%q, %q}, want {%q, %q}", tt.raw, fe.Field, fe.Message, tt.wantField, tt.wantMsg)
			}
		})
	}
}

func TestQueryEncode(t *testing.T) {
	tests := []struct {
		name string
		q    Query
		want string
	}{
		{name: "zero", q: Query{}, want: ""},
		{name: "default limit is kept", q: Query{Limit: DefaultLimit}, want: "limit=100"},
		{name: "negative limit left out", q: Query{Limit: -3}, want: ""},
		{
			name: "every field",
			q: Query{
				Skills: []string{"b", "a"},
				Tags:   []string{"t"},
				Labels: []Label{{Key: "team", Value: "x=y"}},
				Text:   "hello world",
				Limit:  5,
				Cursor: "YQ",
			},
			want: "cursor=YQ&label=team%3Dx%3Dy&limit=5&q=hello+world&skill=b&skill=a&tag=t",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.q.Encode().Encode(); got != tt.want {
				t.Fatalf("Encode() = %q, want %q", got, tt.want)
			}
			if tt.want == "" {
				return
			}
			back, err := ParseQuery(tt.q.Encode())
			if err != nil {
				t.Fatalf("ParseQuery(Encode()): %v", err)
			}
			if !reflect.DeepEqual(back, tt.q) {
				t.Fatalf("ParseQuery(Encode()) = %+v, want %+v", back, tt.q)
			}
		})
	}
}

func TestCursorRoundTrip(t *testing.T) {
	for _, name := range []string{"a", "weather", "a.b-c", strings.Repeat("z", 253)} {
		t.Run(name[:min(len(name), 16)], func(t *testing.T) {
			got, err := decodeCursor(encodeCursor(name))
			if err != nil || got != name {
				t.Fatalf("decodeCursor(encodeCursor(%q)) = %q, %v", name, got, err)
			}
		})
	}
}

func mustParseValues(t *testing.T, raw string) url.Values {
	t.Helper()
	v, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatalf("url.ParseQuery(%q): %v", raw, err)
	}
	return v
}
