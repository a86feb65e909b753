package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/modelreg/registry"
)

func cleanupsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cleanups",
		Short: "Storage URIs whose cleanup failed (PendingCleanups)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out struct {
				Items []registry.Cleanup `json:"items"`
			}
			if _, err := a.c.do(cmd.Context(), request{method: http.MethodGet, path: "/v1/cleanups"}, &out); err != nil {
				return err
			}
			if out.Items == nil {
				out.Items = []registry.Cleanup{}
			}
			return a.print(out, func(w io.Writer) { cleanupTable(w, out.Items) })
		},
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "retry",
		Short: "Hand every pending URI to the cleaner again (RetryCleanups)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out registry.CleanupReport
			if _, err := a.c.do(cmd.Context(), request{method: http.MethodPost, path: "/v1/cleanups/retry"}, &out); err != nil {
				return err
			}
			return a.print(out, func(w io.Writer) {
				fmt.Fprintf(w, "%d cleaned, %d still failing.\n", len(out.Cleaned), len(out.Failed))
				for _, u := range out.Cleaned {
					fmt.Fprintf(w, "cleaned  %s\n", u)
				}
				if len(out.Failed) > 0 {
					cleanupTable(w, out.Failed)
				}
			})
		},
	})
	return cmd
}

func checkCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "check",
		Short: "Verify every invariant of the registry (Check); exit code 1 if one is broken",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out struct {
				Consistent bool     `json:"consistent"`
				Problems   []string `json:"problems"`
			}
			if _, err := a.c.do(cmd.Context(), request{method: http.MethodGet, path: "/v1/check"}, &out); err != nil {
				return err
			}
			if out.Problems == nil {
				out.Problems = []string{}
			}
			if err := a.print(out, func(w io.Writer) {
				if out.Consistent {
					fmt.Fprintln(w, "consistent")
				}
				for _, p := range out.Problems {
					fmt.Fprintln(w, "problem:", p)
				}
			}); err != nil {
				return err
			}
			if !out.Consistent {
				return fmt.Errorf("the registry is inconsistent: %d problems", len(out.Problems))
			}
			return nil
		},
	}
}

func resetCmd(a *app) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "reset [--yes]",
		Short: "Empty the registry (Reset)",
		Long: `Empty the registry: every artifact, edge and deployment goes. On a terminal
it asks first; --yes does not ask. Without a terminal to ask on, --yes is
required.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !yes {
				if !a.isTerminal(a.in) {
					return errors.New("reset empties the registry; give --yes to do it without a terminal to ask on")
				}
				fmt.Fprintf(a.err, "Empty the registry at %s? Every artifact goes, for good. Type yes: ", a.server)
				line, _ := bufio.NewReader(a.in).ReadString('\n')
				if strings.TrimSpace(line) != "yes" {
					return &codeError{exitError, errors.New("reset not confirmed; nothing changed")}
				}
			}
			if _, err := a.c.do(cmd.Context(), request{method: http.MethodPost, path: "/v1/reset"}, nil); err != nil {
				return err
			}
			return a.print(map[string]bool{"reset": true}, func(w io.Writer) { fmt.Fprintln(w, "the registry is empty") })
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask")
	return cmd
}

func eventsCmd(a *app) *cobra.Command {
	var after uint64
	var limit int
	cmd := &cobra.Command{
		Use:   "events [--after SEQ] [--limit N]",
		Short: "Follow the change events (Events, then Subscribe)",
		Long: `Print the audit log's events after --after (0: from the oldest it holds),
then follow live events as they commit, until interrupted or --limit events
have been printed. --output json prints one JSON object a line; yaml one
document an event.`,
		Example: "  registryctl events --after 120 -o json | jq .type",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			if after > 0 {
				q.Set("after", strconv.FormatUint(after, 10))
			}
			ctx := cmd.Context()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.c.url("/v1/events", q), nil)
			if err != nil {
				return err
			}
			req.Header.Set("Accept", "text/event-stream")
			if a.c.token != "" {
				req.Header.Set("Authorization", "Bearer "+a.c.token)
			}
			res, err := a.c.http.Do(req)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return &codeError{exitUnavailable, fmt.Errorf("cannot reach the server: %w", err)}
			}
			defer res.Body.Close()
			if res.StatusCode != http.StatusOK {
				e := &apiError{method: req.Method, path: req.URL.Path}
				_ = json.NewDecoder(res.Body).Decode(&e.problem)
				e.Status = res.StatusCode
				return e
			}
			n, last := 0, after
			err = readSSE(res.Body, func(event, data string) error {
				if event == "dropped" {
					fmt.Fprintf(a.err, "registryctl: events were dropped from the audit log before this position: %s\n", data)
					return nil
				}
				var e registry.Event
				if err := json.Unmarshal([]byte(data), &e); err != nil {
					return fmt.Errorf("event %q: %w", data, err)
				}
				switch a.output {
				case "json":
					if err := writeJSON(a.out, e, ""); err != nil {
						return err
					}
				case "yaml":
					fmt.Fprintln(a.out, "---")
					if err := writeYAML(a.out, e); err != nil {
						return err
					}
				default:
					eventLine(a.out, e)
				}
				n, last = n+1, max(last, e.Seq)
				if limit > 0 && n >= limit {
					return errLimit
				}
				return nil
			})
			if errors.Is(err, errLimit) || ctx.Err() != nil {
				return nil
			}
			if err == nil {
				err = errors.New("the server ended the stream")
			}
			return &codeError{exitUnavailable, fmt.Errorf("%w after event %d; resume with --after %d", err, last, last)}
		},
	}
	cmd.Flags().Uint64Var(&after, "after", 0, "the seq to resume after")
	cmd.Flags().IntVar(&limit, "limit", 0, "stop after this many events (0: follow until interrupted)")
	return cmd
}

var errLimit = errors.New("limit reached")

// readSSE calls fn with each event of a Server-Sent Events stream.
func readSSE(r io.Reader, fn func(event, data string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4<<20)
	var event string
	var data []string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if len(data) > 0 {
				if err := fn(first(event, "message"), strings.Join(data, "\n")); err != nil {
					return err
				}
			}
			event, data = "", nil
		case strings.HasPrefix(line, ":"):
		default:
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "event":
				event = value
			case "data":
				data = append(data, value)
			}
		}
	}
	return sc.Err()
}
