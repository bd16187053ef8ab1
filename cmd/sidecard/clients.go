package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sidecard/sidecard/registry"
)

// clientFlags are shared by the small human clients.
type clientFlags struct {
	addr   string // sidecar (or control plane) base address
	output string // "text" or "json"
}

func (f *clientFlags) register(cmd *cobra.Command, defaultAddr string) {
	cmd.Flags().StringVar(&f.addr, "addr", defaultAddr, "address of the sidecar to ask")
	cmd.Flags().StringVarP(&f.output, "output", "o", "text", "output format: text or json")
}

func newGetCommand() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "get NAME",
		Short: "Show one agent, as the local sidecar sees it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			body, err := fetch(cmd.Context(), f.addr, "/v1/agents/"+url.PathEscape(args[0]))
			if err != nil {
				return err
			}
			if f.output == "json" {
				return writeIndented(cmd.OutOrStdout(), body)
			}
			var e registry.Entry
			if err := json.Unmarshal(body, &e); err != nil {
				return fmt.Errorf("decode entry: %w", err)
			}
			return printEntry(cmd.OutOrStdout(), &e)
		},
	}
	f.register(cmd, "127.0.0.1:17000")
	return cmd
}

func newSearchCommand() *cobra.Command {
	var (
		f clientFlags
		q registry.Query
		l []string
	)
	cmd := &cobra.Command{
		Use:   "search",
		Short: "Search agents by skill, tag, label or text",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, kv := range l {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					return fmt.Errorf("--label %q: want key=value", kv)
				}
				q.Labels = append(q.Labels, registry.Label{Key: k, Value: v})
			}
			body, err := fetch(cmd.Context(), f.addr, "/v1/agents?"+q.Encode().Encode())
			if err != nil {
				return err
			}
			if f.output == "json" {
				return writeIndented(cmd.OutOrStdout(), body)
			}
			var page struct {
				Agents     []*registry.Entry `json:"agents"`
				NextCursor string            `json:"next_cursor"`
			}
			if err := json.Unmarshal(body, &page); err != nil {
				return fmt.Errorf("decode search result: %w", err)
			}
			return printEntries(cmd.OutOrStdout(), page.Agents, page.NextCursor)
		},
	}
	f.register(cmd, "127.0.0.1:17000")
	fl := cmd.Flags()
	fl.StringSliceVar(&q.Skills, "skill", nil, "skill id or name (repeatable; all must match)")
	fl.StringSliceVar(&q.Tags, "tag", nil, "skill tag (repeatable)")
	fl.StringArrayVar(&l, "label", nil, "label key=value (repeatable)")
	fl.StringVarP(&q.Text, "query", "q", "", "text in name, description or skills")
	fl.IntVar(&q.Limit, "limit", 0, "page size (default 100)")
	fl.StringVar(&q.Cursor, "cursor", "", "cursor of the next page")
	return cmd
}

func newStatusCommand() *cobra.Command {
	var (
		f        clientFlags
		sidecars bool
		cpAddr   string
	)
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show a sidecar's status, or with --sidecars the control plane's view of every sidecar",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			addr, path := f.addr, "/v1/status"
			if sidecars {
				addr, path = cpAddr, "/v1/sidecars"
			}
			body, err := fetch(cmd.Context(), addr, path)
			if err != nil {
				return err
			}
			if f.output == "json" {
				return writeIndented(cmd.OutOrStdout(), body)
			}
			if sidecars {
				return printSidecars(cmd.OutOrStdout(), body)
			}
			return printStatus(cmd.OutOrStdout(), body)
		},
	}
	f.register(cmd, "127.0.0.1:17000")
	cmd.Flags().BoolVar(&sidecars, "sidecars", false, "list the sidecars connected to the control plane")
	cmd.Flags().StringVar(&cpAddr, "controlplane", "127.0.0.1:18080", "control-plane HTTP address, for --sidecars")
	return cmd
}

// fetch GETs path from addr and returns the body of a 200, or an error
// carrying the server's §4 error message.
func fetch(ctx context.Context, addr, path string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	base := addr
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct{ Message string } `json:"error"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
			return nil, fmt.Errorf("%s: %s", resp.Status, e.Error.Message)
		}
		return nil, fmt.Errorf("%s", resp.Status)
	}
	return body, nil
}

func writeIndented(w io.Writer, body []byte) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, body, "", "  "); err != nil {
		return fmt.Errorf("response is not JSON: %w", err)
	}
	buf.WriteByte('\n')
	_, err := buf.WriteTo(w)
	return err
}

func printEntry(w io.Writer, e *registry.Entry) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "name:\t%s\n", e.Name)
	if e.Card != nil {
		fmt.Fprintf(tw, "card:\t%s %s (A2A %s)\n", e.Card.Name, e.Card.Version, e.Card.ProtocolVersion)
		fmt.Fprintf(tw, "description:\t%s\n", e.Card.Description)
	}
	fmt.Fprintf(tw, "labels:\t%s\n", formatLabels(e.Labels))
	for _, ep := range e.Endpoints {
		fmt.Fprintf(tw, "endpoint:\t%s (weight %d)\n", ep.URL, ep.Weight)
	}
	if e.Card != nil {
		for _, s := range e.Card.Skills {
			fmt.Fprintf(tw, "skill:\t%s — %s [%s]\n", s.ID, s.Name, strings.Join(s.Tags, ", "))
		}
	}
	fmt.Fprintf(tw, "revision:\t%d (%s, updated %s)\n", e.Revision, e.Source, e.UpdatedAt.Format(time.RFC3339))
	return tw.Flush()
}

func printEntries(w io.Writer, entries []*registry.Entry, next string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSKILLS\tLABELS\tENDPOINTS")
	for _, e := range entries {
		var skills []string
		if e.Card != nil {
			for _, s := range e.Card.Skills {
				skills = append(skills, s.ID)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", e.Name, strings.Join(skills, ","), formatLabels(e.Labels), len(e.Endpoints))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if next != "" {
		_, err := fmt.Fprintf(w, "more: --cursor %s\n", next)
		return err
	}
	return nil
}

func printStatus(w io.Writer, body []byte) error {
	var s struct {
		NodeID       string    `json:"node_id"`
		Connected    bool      `json:"connected"`
		ControlPlane string    `json:"controlplane"`
		Revision     int64     `json:"revision"`
		Agents       int       `json:"agents"`
		LastUpdate   time.Time `json:"last_update"`
		StaleSeconds int64     `json:"stale_seconds"`
		Config       struct {
			Generation int64  `json:"generation"`
			LastError  string `json:"last_error"`
		} `json:"config"`
	}
	if err := json.Unmarshal(body, &s); err != nil {
		return fmt.Errorf("decode status: %w", err)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	conn := "connected to " + s.ControlPlane
	if !s.Connected {
		conn = fmt.Sprintf("DISCONNECTED (stale for %ds; last control plane %s)", s.StaleSeconds, s.ControlPlane)
	}
	fmt.Fprintf(tw, "node:\t%s\n", s.NodeID)
	fmt.Fprintf(tw, "stream:\t%s\n", conn)
	fmt.Fprintf(tw, "replica:\t%d agents at revision %d, last update %s\n", s.Agents, s.Revision, s.LastUpdate.Format(time.RFC3339))
	fmt.Fprintf(tw, "config:\tgeneration %d\n", s.Config.Generation)
	if s.Config.LastError != "" {
		fmt.Fprintf(tw, "config error:\t%s\n", s.Config.LastError)
	}
	return tw.Flush()
}

func printSidecars(w io.Writer, body []byte) error {
	var list struct {
		Sidecars []struct {
			ID             string            `json:"id"`
			Labels         map[string]string `json:"labels"`
			Address        string            `json:"address"`
			ConnectedSince time.Time         `json:"connected_since"`
			AckedRevision  int64             `json:"acked_revision"`
			NACKs          int64             `json:"nacks"`
			LastNACKError  string            `json:"last_nack_error"`
		} `json:"sidecars"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return fmt.Errorf("decode sidecars: %w", err)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tADDRESS\tLABELS\tCONNECTED\tACKED REV\tNACKS\tLAST NACK")
	for _, s := range list.Sidecars {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\n", s.ID, s.Address, formatLabels(s.Labels),
			time.Since(s.ConnectedSince).Round(time.Second), s.AckedRevision, s.NACKs, s.LastNACKError)
	}
	return tw.Flush()
}

func formatLabels(m map[string]string) string {
	if len(m) == 0 {
		return "-"
	}
	parts := make([]string, 0, len(m))
	for k, v := range m {
		parts = append(parts, k+"="+v)
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}
