package register

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sidecard/sidecard/registry"
)

// NodeHeader carries the sidecar's node id on every request to the control
// plane, for its logs; who registered an entry is the name of the
// sidecar's token (registered_by), not this header.
const NodeHeader = "X-Sidecard-Node"

// maxResponseBytes bounds a control-plane answer the Client reads.
const maxResponseBytes = 2*MaxBodyBytes + 64<<10

// Errors of the Client's calls, matched with errors.Is (an *APIError
// matches the one of its status).
var (
	// ErrNotFound: 404, the entry does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: 409, the entry is owned by another source, or has no
	// lease to renew.
	ErrConflict = errors.New("conflict")
	// ErrPrecondition: 412, If-Match failed.
	ErrPrecondition = errors.New("precondition failed")
	// ErrRefused: 401 or 403, the control plane refused the sidecar's
	// token for this request.
	ErrRefused = errors.New("refused by the control plane")
	// ErrInvalid: 400, 413 or 415, the request itself is wrong.
	ErrInvalid = errors.New("invalid request")
	// ErrUnavailable: no control plane answered within the attempts, or
	// every answer was 429, 502, 503 or 504.
	ErrUnavailable = errors.New("control plane unavailable")
)

// APIError is a non-2xx answer of the control plane, with its §4 error
// body when it had one.
type APIError struct {
	Status  int
	Code    string
	Message string
	// Field names the offending field of the request, or "".
	Field string
	// Body is the answer's body, verbatim (to relay it).
	Body []byte
}

func (e *APIError) Error() string {
	return fmt.Sprintf("control plane answered %d %s: %s", e.Status, e.Code, e.Message)
}

// Is matches the sentinel error of e's status.
func (e *APIError) Is(target error) bool {
	switch e.Status {
	case http.StatusNotFound:
		return target == ErrNotFound
	case http.StatusConflict:
		return target == ErrConflict
	case http.StatusPreconditionFailed:
		return target == ErrPrecondition
	case http.StatusUnauthorized, http.StatusForbidden:
		return target == ErrRefused
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
		return target == ErrInvalid
	}
	return retryable(e.Status) && target == ErrUnavailable
}

// retryable reports whether a status means "try again, maybe elsewhere".
func retryable(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// ClientOptions configure a Client. Addresses is required; zero values of
// the other fields mean their defaults.
type ClientOptions struct {
	// Addresses are the control planes' HTTP API addresses (host:port or
	// http(s)://host:port), tried in turn from the last one that answered.
	Addresses []string
	// Token is the bearer token sent with every request; "" sends none.
	Token string
	// NodeID is sent in the NodeHeader header.
	NodeID string
	// AttemptTimeout bounds one request to one address; 0 means
	// DefaultAttemptTimeout.
	AttemptTimeout time.Duration
	// Attempts bounds the requests of one call; 0 means DefaultAttempts.
	Attempts int
	// Backoff is the wait before the second attempt, doubling after each
	// (at most 2 s); 0 means DefaultBackoff.
	Backoff time.Duration
	// Transport makes the requests; nil means a Transport of the Client's
	// own (closed by Close).
	Transport http.RoundTripper
	// Clock times the backoff; nil means the real clock.
	Clock Clock
	// Logger receives a debug line per failed attempt; nil discards.
	Logger *slog.Logger
	// Registerer receives the Client's metrics; nil registers none.
	Registerer prometheus.Registerer
}

// Validate reports the problems of o. It does not modify o.
func (o ClientOptions) Validate() error {
	var errs []error
	if len(o.Addresses) == 0 {
		errs = append(errs, errors.New("at least one control-plane HTTP address is required"))
	}
	for _, a := range o.Addresses {
		if err := ValidateHTTPAddress(a); err != nil {
			errs = append(errs, err)
		}
	}
	if o.AttemptTimeout < 0 || o.Attempts < 0 || o.Backoff < 0 {
		errs = append(errs, errors.New("timeouts, attempts and backoff must not be negative"))
	}
	return errors.Join(errs...)
}

// Client calls the control plane's HTTP API to write entries on behalf of
// the sidecar's agents: every call has a deadline per attempt, and calls
// that get no answer (or 429, 502, 503, 504) are retried with backoff on the
// next address. It is safe for concurrent use; build it with NewClient.
type Client struct {
	bases    []string
	token    string
	nodeID   string
	timeout  time.Duration
	attempts int
	backoff  time.Duration
	http     *http.Client
	own      *http.Transport // closed by Close; nil when given one
	clock    Clock
	log      *slog.Logger
	metrics  *clientMetrics
	next     atomic.Uint32 // index of the address to try first
}

// NewClient returns a Client for opts.
func NewClient(opts ClientOptions) (*Client, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("control-plane client: %w", err)
	}
	m, err := newClientMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	c := &Client{
		token: opts.Token, nodeID: opts.NodeID,
		timeout:  orDefault(opts.AttemptTimeout, DefaultAttemptTimeout),
		attempts: orDefault(opts.Attempts, DefaultAttempts),
		backoff:  orDefault(opts.Backoff, DefaultBackoff),
		clock:    clockOrReal(opts.Clock), log: opts.Logger, metrics: m,
	}
	for _, a := range opts.Addresses {
		c.bases = append(c.bases, baseURL(a))
	}
	rt := opts.Transport
	if rt == nil {
		c.own = &http.Transport{
			Proxy: nil, MaxIdleConnsPerHost: 4, IdleConnTimeout: 90 * time.Second,
			TLSHandshakeTimeout: c.timeout, ResponseHeaderTimeout: c.timeout,
		}
		rt = c.own
	}
	c.http = &http.Client{Transport: rt, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse // an API answers, it does not redirect
	}}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// Close closes the idle connections of the Client's own Transport.
func (c *Client) Close() {
	if c.own != nil {
		c.own.CloseIdleConnections()
	}
}

// Stored is the answer to a Put.
type Stored struct {
	// Entry is the entry as the control plane stored it.
	Entry *registry.Entry
	// JSON is the control plane's answer, verbatim.
	JSON []byte
	// Created is true when the entry did not exist (201).
	Created bool
}

// putBody is what Put sends: the writable fields of an entry.
type putBody struct {
	Name       string              `json:"name"`
	Labels     map[string]string   `json:"labels,omitempty"`
	Endpoints  []registry.Endpoint `json:"endpoints,omitempty"`
	Card       *registry.Card      `json:"card"`
	TTLSeconds int64               `json:"ttl_seconds,omitempty"`
}

// Put creates or replaces the entry e (PUT /v1/agents/{name}); ifMatch > 0
// makes it conditional on the entry being at that revision.
func (c *Client) Put(ctx context.Context, e *registry.Entry, ifMatch int64) (*Stored, error) {
	body, err := json.Marshal(putBody{Name: e.Name, Labels: e.Labels, Endpoints: e.Endpoints, Card: e.Card, TTLSeconds: e.TTLSeconds})
	if err != nil {
		return nil, fmt.Errorf("put %q: encode: %w", e.Name, err)
	}
	var hdr http.Header
	if ifMatch > 0 {
		hdr = http.Header{"If-Match": {`"` + strconv.FormatInt(ifMatch, 10) + `"`}}
	}
	resp, err := c.call(ctx, opPut, http.MethodPut, agentPath(e.Name), body, hdr, http.StatusOK, http.StatusCreated)
	if err != nil {
		return nil, fmt.Errorf("put %q: %w", e.Name, err)
	}
	stored, err := decodeEntry(resp.body)
	if err != nil {
		return nil, fmt.Errorf("put %q: %w", e.Name, err)
	}
	return &Stored{Entry: stored, JSON: resp.body, Created: resp.status == http.StatusCreated}, nil
}

// Get returns the entry named name as the control plane has it.
func (c *Client) Get(ctx context.Context, name string) (*registry.Entry, error) {
	resp, err := c.call(ctx, opGet, http.MethodGet, agentPath(name), nil, nil, http.StatusOK)
	if err != nil {
		return nil, fmt.Errorf("get %q: %w", name, err)
	}
	e, err := decodeEntry(resp.body)
	if err != nil {
		return nil, fmt.Errorf("get %q: %w", name, err)
	}
	return e, nil
}

// Delete deletes the entry named name.
func (c *Client) Delete(ctx context.Context, name string) error {
	if _, err := c.call(ctx, opDelete, http.MethodDelete, agentPath(name), nil, nil, http.StatusNoContent); err != nil {
		return fmt.Errorf("delete %q: %w", name, err)
	}
	return nil
}

// Lease is the answer to a heartbeat.
type Lease struct {
	Name       string    `json:"name"`
	ExpiresAt  time.Time `json:"expires_at"`
	TTLSeconds int64     `json:"ttl_seconds"`
}

// Heartbeat renews the lease of the entry named name.
func (c *Client) Heartbeat(ctx context.Context, name string) (Lease, error) {
	var l Lease
	resp, err := c.call(ctx, opHeartbeat, http.MethodPost, agentPath(name)+"/heartbeat", nil, nil, http.StatusOK)
	if err != nil {
		return l, fmt.Errorf("heartbeat %q: %w", name, err)
	}
	if err := json.Unmarshal(resp.body, &l); err != nil {
		return l, fmt.Errorf("heartbeat %q: decode answer: %w", name, err)
	}
	return l, nil
}

func agentPath(name string) string { return "/v1/agents/" + url.PathEscape(name) }

// decodeEntry decodes an entry the control plane answered with. Keys it
// does not know (fields newer than this sidecar) are ignored.
func decodeEntry(body []byte) (*registry.Entry, error) {
	var e registry.Entry
	if err := json.Unmarshal(body, &e); err != nil {
		return nil, fmt.Errorf("decode the control plane's entry: %w", err)
	}
	if e.Card == nil {
		return nil, errors.New("decode the control plane's entry: no card")
	}
	return &e, nil
}

// response is a control-plane answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// call makes the request, retrying as the Client documents, and returns
// the answer when its status is one of want; any other answer is an
// *APIError.
func (c *Client) call(ctx context.Context, op, method, path string, body []byte, hdr http.Header, want ...int) (*response, error) {
	resp, err := c.do(ctx, method, path, body, hdr)
	if err != nil {
		c.metrics.observe(op, resultUnavailable)
		return nil, err
	}
	for _, s := range want {
		if resp.status == s {
			c.metrics.observe(op, resultOK)
			return resp, nil
		}
	}
	c.metrics.observe(op, resultRefused)
	return nil, apiError(resp)
}

// do sends the request to one address after another, with backoff, until
// one answers with a status that is not retryable.
func (c *Client) do(ctx context.Context, method, path string, body []byte, hdr http.Header) (*response, error) {
	first := int(c.next.Load())
	wait := c.backoff
	var last error
	for attempt := range c.attempts {
		if attempt > 0 {
			c.metrics.retries.Inc()
			select {
			case <-ctx.Done():
				return nil, fmt.Errorf("%w: %w (last: %w)", ErrUnavailable, ctx.Err(), last)
			case <-c.clock.After(wait):
			}
			wait = min(2*wait, maxBackoff)
		}
		i := (first + attempt) % len(c.bases)
		resp, err := c.once(ctx, c.bases[i], method, path, body, hdr)
		if err == nil && !retryable(resp.status) {
			c.next.Store(uint32(i))
			return resp, nil
		}
		if err == nil {
			err = apiError(resp)
		}
		last = fmt.Errorf("%s %s%s: %w", method, c.bases[i], path, err)
		c.log.LogAttrs(ctx, slog.LevelDebug, "control-plane request failed",
			slog.Int("attempt", attempt+1), slog.Any("error", last))
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("%w: %w", ErrUnavailable, last)
}

// once makes one request to base, within the attempt timeout.
func (c *Client) once(ctx context.Context, base, method, path string, body []byte, hdr http.Header) (*response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.nodeID != "" {
		req.Header.Set(NodeHeader, c.nodeID)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, fmt.Errorf("read answer: %w", err)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// apiError returns the *APIError of a non-2xx answer.
func apiError(r *response) *APIError {
	e := &APIError{Status: r.status, Body: r.body}
	var b struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Field   string `json:"field"`
		} `json:"error"`
	}
	if json.Unmarshal(r.body, &b) == nil && b.Error.Message != "" {
		e.Code, e.Message, e.Field = b.Error.Code, b.Error.Message, b.Error.Field
	} else {
		e.Message = fmt.Sprintf("%.200s", bytes.TrimSpace(r.body))
	}
	return e
}

// orDefault returns v, or def when v is zero.
func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
