package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"
)

// listBody is the body of GET /v1/agents, with next_cursor's presence kept.
type listBody struct {
	Agents []struct {
		Name string `json:"name"`
	} `json:"agents"`
	NextCursor *string `json:"next_cursor"`
}

func (b listBody) names() []string {
	out := []string{}
	for _, a := range b.Agents {
		out = append(out, a.Name)
	}
	return out
}

// decodeList decodes a GET /v1/agents body strictly.
func decodeList(t *testing.T, body []byte) listBody {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	var b listBody
	if err := dec.Decode(&b); err != nil {
		t.Fatalf("decode list %s: %v", body, err)
	}
	if b.Agents == nil {
		t.Fatalf("list %s has no agents array", body)
	}
	return b
}

// listSeeds are the entries of the list tests.
var listSeeds = []seed{
	{name: "alpha", rev: 1, skill: "forecast", labels: map[string]string{"zone": "eu-1"}},
	{name: "bravo", rev: 2, skill: "translate", labels: map[string]string{"zone": "us-1"}},
	{name: "charlie", rev: 3, skill: "forecast", labels: map[string]string{"zone": "us-1"}},
	{name: "delta", rev: 4, skill: "summarise"},
	{name: "echo", rev: 5, skill: "forecast"},
}

func TestListAgents(t *testing.T) {
	tests := []struct {
		name       string
		query      string
		wantStatus int
		wantCode   string
		wantField  string
		wantNames  []string
		wantNext   bool
	}{
		{name: "all", wantStatus: 200, wantNames: []string{"alpha", "bravo", "charlie", "delta", "echo"}},
		{name: "first page", query: "limit=2", wantStatus: 200, wantNames: []string{"alpha", "bravo"}, wantNext: true},
		{name: "skill", query: "skill=forecast", wantStatus: 200, wantNames: []string{"alpha", "charlie", "echo"}},
		{name: "skill and label", query: "skill=forecast&label=zone=us-1", wantStatus: 200, wantNames: []string{"charlie"}},
		{name: "tag", query: "tag=translate-tag", wantStatus: 200, wantNames: []string{"bravo"}},
		{name: "text", query: "q=SUMMARISE", wantStatus: 200, wantNames: []string{"delta"}},
		{name: "no match", query: "skill=juggling", wantStatus: 200, wantNames: []string{}},
		{name: "bad limit", query: "limit=zero", wantStatus: 400, wantCode: codeInvalidArgument, wantField: "limit"},
		{name: "limit too large", query: "limit=100000", wantStatus: 400, wantCode: codeInvalidArgument, wantField: "limit"},
		{name: "bad label", query: "label=zone", wantStatus: 400, wantCode: codeInvalidArgument, wantField: "label"},
		{name: "bad cursor", query: "cursor=%21%21", wantStatus: 400, wantCode: codeInvalidArgument, wantField: "cursor"},
		{name: "unknown parameter", query: "colour=red", wantStatus: 400, wantCode: codeInvalidArgument, wantField: "colour"},
	}
	st := seeded(t, listSeeds...)
	a, _ := newTestAPI(t, Options{Store: st, View: st})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := do(t, a.Handler(), req{method: "GET", path: "/v1/agents?" + tt.query})
			if tt.wantCode != "" {
				checkError(t, rec, tt.wantStatus, tt.wantCode, tt.wantField)
				return
			}
			if rec.Code != tt.wantStatus || rec.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("status %d, Content-Type %q; want %d, application/json; body %s",
					rec.Code, rec.Header().Get("Content-Type"), tt.wantStatus, rec.Body)
			}
			b := decodeList(t, rec.Body.Bytes())
			if !slices.Equal(b.names(), tt.wantNames) {
				t.Errorf("names = %v, want %v", b.names(), tt.wantNames)
			}
			if (b.NextCursor != nil) != tt.wantNext {
				t.Errorf("next_cursor present = %v, want %v", b.NextCursor != nil, tt.wantNext)
			}
		})
	}
}

func TestListPagination(t *testing.T) {
	st := seeded(t, listSeeds...)
	a, _ := newTestAPI(t, Options{Store: st, View: st})
	var got []string
	query := url.Values{"limit": {"2"}}
	for pages := 1; ; pages++ {
		if pages > len(listSeeds) {
			t.Fatalf("pagination did not end after %d pages", pages)
		}
		rec := do(t, a.Handler(), req{method: "GET", path: "/v1/agents?" + query.Encode()})
		if rec.Code != http.StatusOK {
			t.Fatalf("page %d: status %d, body %s", pages, rec.Code, rec.Body)
		}
		b := decodeList(t, rec.Body.Bytes())
		got = append(got, b.names()...)
		if b.NextCursor == nil {
			if pages != 3 {
				t.Errorf("%d pages, want 3", pages)
			}
			break
		}
		query.Set("cursor", *b.NextCursor)
	}
	if want := []string{"alpha", "bravo", "charlie", "delta", "echo"}; !slices.Equal(got, want) {
		t.Fatalf("paged names = %v, want %v", got, want)
	}
}

func TestListViewBehind(t *testing.T) {
	st := seeded(t, listSeeds...)
	a, _ := newTestAPI(t, Options{Store: st, View: laggingView{}, ViewWait: 20 * time.Millisecond})
	rec := do(t, a.Handler(), req{method: "GET", path: "/v1/agents"})
	checkError(t, rec, http.StatusServiceUnavailable, codeUnavailable, "")
	if got := rec.Header().Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After = %q, want 1", got)
	}
}
