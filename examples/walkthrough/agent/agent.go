package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// agent is a tiny A2A agent: it serves its agent card and answers the
// JSON-RPC method message/send; it registers itself through its sidecar
// and calls its peer by name through the same sidecar.
type agent struct {
	name    string
	addr    string // host:port it listens on
	sidecar string // host:port of its sidecar
	client  *http.Client
	say     func(format string, args ...any) // prints one line of the walk-through
}

// maxBody bounds the bodies the agent reads.
const maxBody = 1 << 20

// card returns the agent's A2A v0.3 agent card.
func (a *agent) card() []byte {
	card := map[string]any{
		"protocolVersion":    "0.3.0",
		"name":               a.name,
		"description":        "A walk-through agent: it greets whoever writes to it.",
		"url":                "http://" + a.addr,
		"preferredTransport": "JSONRPC",
		"version":            "1.0.0",
		"capabilities":       map[string]any{},
		"defaultInputModes":  []string{"text/plain"},
		"defaultOutputModes": []string{"text/plain"},
		"skills": []map[string]any{{
			"id": "greet", "name": "Greet", "description": "Answers a message with a greeting.",
			"tags": []string{"walkthrough"},
		}},
	}
	b, _ := json.Marshal(card) // a map of strings and slices always encodes
	return b
}

// handler serves the card at /.well-known/agent-card.json and JSON-RPC
// (message/send) on POST to any other path.
func (a *agent) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/agent-card.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(a.card())
	})
	mux.HandleFunc("POST /", a.serveRPC)
	return mux
}

// rpcRequest is a JSON-RPC 2.0 request.
type rpcRequest struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Method  string          `json:"method"`
	Params  struct {
		Message message `json:"message"`
	} `json:"params"`
}

// message is an A2A message with text parts.
type message struct {
	Kind      string `json:"kind"`
	Role      string `json:"role"`
	MessageID string `json:"messageId"`
	Parts     []part `json:"parts"`
}

type part struct {
	Kind string `json:"kind"`
	Text string `json:"text"`
}

// text returns the text of m's text parts.
func (m message) text() string {
	var texts []string
	for _, p := range m.Parts {
		if p.Kind == "text" {
			texts = append(texts, p.Text)
		}
	}
	return strings.Join(texts, " ")
}

// serveRPC answers message/send with a greeting; other methods with
// -32601.
func (a *agent) serveRPC(w http.ResponseWriter, r *http.Request) {
	var req rpcRequest
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	var resp map[string]any
	switch {
	case err != nil:
		resp = map[string]any{"jsonrpc": "2.0", "id": nil, "error": map[string]any{"code": -32700, "message": "Parse error"}}
	case req.Method != "message/send":
		resp = map[string]any{"jsonrpc": "2.0", "id": req.ID,
			"error": map[string]any{"code": -32601, "message": "Method not found: " + req.Method}}
	default:
		a.say("received %q", req.Params.Message.text())
		reply := message{Kind: "message", Role: "agent", MessageID: newID(),
			Parts: []part{{Kind: "text", Text: fmt.Sprintf("Hello from %s! You said: %s", a.name, req.Params.Message.text())}}}
		resp = map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": reply}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp) // a failed write means the caller went away
}

// register PUTs the agent's card to its sidecar, which registers it with
// the control plane and keeps it registered while the card answers.
// Attempts are retried every 200 ms (the sidecar may still be starting)
// until ctx ends.
func (a *agent) register(ctx context.Context) error {
	url := "http://" + a.sidecar + "/v1/agents/" + a.name
	return retry(ctx, func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, bytes.NewReader(a.card()))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		status, body, err := a.do(req)
		if err != nil {
			return err
		}
		if status != http.StatusCreated && status != http.StatusOK {
			return fmt.Errorf("PUT %s = %d %s", url, status, body)
		}
		var stored struct {
			TTLSeconds int64 `json:"ttl_seconds"`
			Revision   int64 `json:"revision"`
		}
		_ = json.Unmarshal(body, &stored)
		a.say("registered through sidecar %s (revision %d, lease %ds, kept alive by the sidecar)",
			a.sidecar, stored.Revision, stored.TTLSeconds)
		return nil
	})
}

// ask sends text to the agent named peer with message/send, through the
// sidecar's proxy (http://<sidecar>/a2a/<peer>), and returns the reply's
// text.
func (a *agent) ask(ctx context.Context, peer, text string) (string, error) {
	body, _ := json.Marshal(map[string]any{ // always encodes
		"jsonrpc": "2.0", "id": newID(), "method": "message/send",
		"params": map[string]any{"message": message{Kind: "message", Role: "user", MessageID: newID(),
			Parts: []part{{Kind: "text", Text: text}}}},
	})
	url := "http://" + a.sidecar + "/a2a/" + peer
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	status, respBody, err := a.do(req)
	if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		return "", fmt.Errorf("POST %s = %d %s", url, status, bytes.TrimSpace(respBody))
	}
	var resp struct {
		Result *message `json:"result"`
		Error  *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(respBody, &resp); err != nil {
		return "", fmt.Errorf("POST %s: %w", url, err)
	}
	if resp.Error != nil || resp.Result == nil {
		return "", fmt.Errorf("POST %s: JSON-RPC error %+v", url, resp.Error)
	}
	return resp.Result.text(), nil
}

// converse sends rounds messages to peer, every pause, printing each reply;
// until the first reply it retries every 200 ms (the peer may not be
// registered yet) until ctx ends.
func (a *agent) converse(ctx context.Context, peer string, rounds int, pause time.Duration) error {
	for i := 1; i <= rounds; i++ {
		text := fmt.Sprintf("hi %s, this is %s (message %d of %d)", peer, a.name, i, rounds)
		var reply string
		err := retry(ctx, func() error {
			var err error
			reply, err = a.ask(ctx, peer, text)
			return err
		})
		if err != nil {
			return fmt.Errorf("ask %s: %w", peer, err)
		}
		a.say("asked %s by name through http://%s/a2a/%s, got %q", peer, a.sidecar, peer, reply)
		if i < rounds {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(pause):
			}
		}
	}
	return nil
}

// do sends req and reads the answer, at most maxBody bytes.
func (a *agent) do(req *http.Request) (int, []byte, error) {
	resp, err := a.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	return resp.StatusCode, body, err
}

// retry calls fn every 200 ms until it succeeds or ctx ends, and returns
// its last error then.
func retry(ctx context.Context, fn func() error) error {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		err := fn()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-tick.C:
		}
	}
}

// newID returns a random message or request id.
func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// serve listens on a.addr and serves the agent until ctx ends; ready is
// called once it listens (with the address, useful with port 0).
func (a *agent) serve(ctx context.Context, ready func(addr string)) error {
	ln, err := net.Listen("tcp", a.addr)
	if err != nil {
		return err
	}
	a.addr = ln.Addr().String()
	srv := &http.Server{Handler: a.handler(), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	ready(a.addr)
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdown)
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
