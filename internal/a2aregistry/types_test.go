package a2aregistry

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestAgentsResponseAppendJSON checks that the hand-written encoding of
// listings matches encoding/json.
func TestAgentsResponseAppendJSON(t *testing.T) {
	query := `a "<quoted> & odd" query`
	tests := []struct {
		name string
		resp AgentsResponse
	}{
		{"empty", AgentsResponse{Agents: []json.RawMessage{}}},
		{"listing", AgentsResponse{Agents: []json.RawMessage{json.RawMessage(`{"a":1}`), json.RawMessage(`{"b":[2]}`)}, Count: 2}},
		{"search", AgentsResponse{Agents: []json.RawMessage{json.RawMessage(`{"a":1}`)}, Count: 1, Query: &query,
			SkillsFilter: []string{"x<y", "z"}, Transport: TransportJSONRPC}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := json.Marshal(&tt.resp)
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.resp.AppendJSON(nil); !bytes.Equal(got, want) {
				t.Errorf("AppendJSON = %s\nwant       %s", got, want)
			}
		})
	}
}
