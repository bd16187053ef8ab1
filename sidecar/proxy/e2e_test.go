package proxy

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/sidecard/sidecard/registry"
)

// jsonRPCRequest is an A2A JSON-RPC request, as a client sends it.
type jsonRPCRequest struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      int             `json:"id"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
}

// tinyAgent is an A2A agent that answers message/send with a Message
// echoing the text it got, at path /a2a (its card's url).
func tinyAgent(t *testing.T) *upstream {
	return newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		var req jsonRPCRequest
		var params struct {
			Message struct {
				Parts []struct {
					Kind, Text string
				} `json:"parts"`
				MessageID string `json:"messageId"`
			} `json:"message"`
		}
		if r.Method != "POST" || r.URL.Path != "/a2a" || json.NewDecoder(r.Body).Decode(&req) != nil ||
			req.Method != "message/send" || json.Unmarshal(req.Params, &params) != nil || len(params.Message.Parts) == 0 {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%d,"result":{"kind":"message","role":"agent","messageId":"reply-%s",`+
			`"parts":[{"kind":"text","text":"you said: %s"}]}}`, req.ID, params.Message.MessageID, params.Message.Parts[0].Text)
	})
}

// TestA2AClientThroughSidecar is a minimal A2A client: it discovers the
// agent through the card the sidecar serves, then calls message/send at
// the card's url, which now points at the sidecar.
func TestA2AClientThroughSidecar(t *testing.T) {
	agent := tinyAgent(t)
	card := v03Card("echo", agent.url+"/a2a", `,"preferredTransport":"JSONRPC"`)
	e := newEnv(t, []*registry.Entry{entry(t, "echo", 7, card)}, nil)

	// Discovery: the client is only given the sidecar's URL for "echo".
	resp, err := e.client.Get(e.base + "/a2a/echo/.well-known/agent-card.json")
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		URL                string `json:"url"`
		PreferredTransport string `json:"preferredTransport"`
	}
	err = json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if err != nil || !strings.HasPrefix(got.URL, e.base+"/a2a/echo") {
		t.Fatalf("card url %q (%v), want it on the sidecar %s", got.URL, err, e.base)
	}

	// The call, as the A2A spec defines message/send.
	call := `{"jsonrpc":"2.0","id":1,"method":"message/send","params":{"message":{"role":"user",` +
		`"parts":[{"kind":"text","text":"hi"}],"messageId":"9229e770-767c-417b-a0b0-f0741243c589"}}}`
	resp, err = e.client.Post(got.URL, "application/json", strings.NewReader(call))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var result struct {
		JSONRPC string `json:"jsonrpc"`
		ID      int    `json:"id"`
		Result  struct {
			Kind, Role, MessageID string
			Parts                 []struct{ Kind, Text string }
		} `json:"result"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&result); err != nil || resp.StatusCode != 200 {
		t.Fatalf("status %d: %v", resp.StatusCode, err)
	}
	r := result.Result
	if result.JSONRPC != "2.0" || result.ID != 1 || r.Kind != "message" || r.Role != "agent" ||
		len(r.Parts) != 1 || r.Parts[0].Text != "you said: hi" {
		t.Errorf("result = %+v", result)
	}
	if seen := agent.requests(); len(seen) != 1 || seen[0].URI != "/a2a" || seen[0].Header.Get("X-Forwarded-Host") == "" {
		t.Errorf("the agent saw %+v, want one proxied call on /a2a", seen)
	}
}
