package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/paklog/integration-hub/dlq"
	"github.com/paklog/integration-hub/internal/hub"
	"github.com/paklog/integration-hub/internal/store"
)

func dlqCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dlq",
		Short: "Inspect, replay and discard dead-lettered messages",
		Long: `The dead-letter queue holds every message a handler could not process, with the reason,
the error chain, the error class and the number of attempts. Fix the cause, then replay:
the message goes back to the handler that failed, and only to it. The running hub
('paklog serve') delivers the replay; if it fails again the entry reopens.`,
		Example: `  paklog dlq list
  paklog dlq list --status open --handler normalize.api --json
  paklog dlq show 12
  paklog dlq replay 12
  paklog dlq discard 12 --reason "duplicate test order"`,
	}
	var asJSON bool
	cmd.PersistentFlags().BoolVar(&asJSON, "json", false, "print JSON")

	withConsole := func(cmd *cobra.Command, fn func(c *dlq.Console) error) error {
		cfg, err := loadConfig(cmd, nil)
		if err != nil {
			return err
		}
		st, err := store.Open(cmd.Context(), hub.StoreConfig(cfg), nil)
		if err != nil {
			return err
		}
		defer st.Close()
		return fn(dlq.NewConsole(st, hub.Topics(cfg)))
	}
	parseID := func(s string) (int64, error) {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a DLQ entry id (paklog dlq list shows them)", s)
		}
		return id, nil
	}

	var f dlq.Filter
	list := &cobra.Command{
		Use:   "list",
		Short: "List entries, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch f.Status {
			case "", dlq.StatusOpen, dlq.StatusReplayed, dlq.StatusDiscarded:
			default:
				// A typo must not read as "the queue is empty".
				return fmt.Errorf("--status %q: must be %s, %s or %s", f.Status, dlq.StatusOpen, dlq.StatusReplayed, dlq.StatusDiscarded)
			}
			return withConsole(cmd, func(c *dlq.Console) error {
				entries, err := c.List(cmd.Context(), f)
				if err != nil {
					return err
				}
				if asJSON {
					for i := range entries {
						entries[i].Payload = nil
					}
					if entries == nil {
						entries = []dlq.Entry{} // [], not null, for scripts that iterate
					}
					return printJSON(cmd.OutOrStdout(), map[string]any{"entries": entries})
				}
				printEntries(cmd.OutOrStdout(), entries, f != (dlq.Filter{Limit: f.Limit}))
				return nil
			})
		},
	}
	list.Flags().StringVar(&f.Status, "status", "", "open, replayed or discarded (default: all)")
	list.Flags().StringVar(&f.Handler, "handler", "", "only this handler's entries")
	list.Flags().StringVar(&f.OrderID, "order", "", "only this order's entries")
	list.Flags().IntVar(&f.Limit, "limit", 100, "at most this many entries")

	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show one entry with its payload and error chain",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0])
			if err != nil {
				return err
			}
			return withConsole(cmd, func(c *dlq.Console) error {
				e, err := c.Get(cmd.Context(), id)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(cmd.OutOrStdout(), e)
				}
				printEntry(cmd.OutOrStdout(), e)
				return nil
			})
		},
	}

	var force bool
	replay := &cobra.Command{
		Use:   "replay ID...",
		Short: "Deliver entries again to the handler that failed",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withConsole(cmd, func(c *dlq.Console) error {
				for _, a := range args {
					id, err := parseID(a)
					if err != nil {
						return err
					}
					e, err := c.Replay(cmd.Context(), id, force)
					if err != nil {
						return err
					}
					if asJSON {
						e.Payload = nil
						if err := printJSON(cmd.OutOrStdout(), e); err != nil {
							return err
						}
						continue
					}
					fmt.Fprintf(cmd.OutOrStdout(), "entry %d replayed to %s (replay #%d); the running hub delivers it\n", e.ID, e.Handler, e.ReplayCount)
				}
				return nil
			})
		},
	}
	replay.Flags().BoolVar(&force, "force", false, "replay an entry that is not open")

	var reason string
	discard := &cobra.Command{
		Use:   "discard ID",
		Short: "Close an entry without processing it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0])
			if err != nil {
				return err
			}
			return withConsole(cmd, func(c *dlq.Console) error {
				if err := c.Discard(cmd.Context(), id, reason); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "entry %d discarded\n", id)
				return nil
			})
		},
	}
	discard.Flags().StringVar(&reason, "reason", "", "why it needs no processing (required)")

	cmd.AddCommand(list, show, replay, discard)
	return cmd
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printEntries(w io.Writer, entries []dlq.Entry, filtered bool) {
	if len(entries) == 0 && filtered {
		fmt.Fprintln(w, "no entries match (paklog dlq list without flags lists them all)")
		return
	}
	if len(entries) == 0 {
		fmt.Fprintln(w, "the dead-letter queue is empty")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tFAILED\tHANDLER\tCLASS\tATTEMPTS\tORDER\tREASON")
	for _, e := range entries {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", e.ID, e.Status, e.LastFailedAt.Format(time.DateTime),
			e.Handler, e.ErrorClass, e.Attempts, dash(e.OrderID), truncate(e.Reason, 80))
	}
	tw.Flush()
}

func printEntry(w io.Writer, e dlq.Entry) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	row("id", strconv.FormatInt(e.ID, 10))
	row("status", e.Status)
	row("handler", e.Handler)
	row("topic", e.Topic)
	row("error class", e.ErrorClass)
	row("attempts", strconv.Itoa(e.Attempts))
	row("times failed", strconv.Itoa(e.TimesFailed))
	row("first failed", e.FailedAt.Format(time.RFC3339))
	row("last failed", e.LastFailedAt.Format(time.RFC3339))
	row("replays", strconv.Itoa(e.ReplayCount))
	row("order", dash(e.OrderID))
	row("correlation", dash(e.CorrelationID))
	row("message", e.MessageUUID)
	row("reason", e.Reason)
	tw.Flush()
	fmt.Fprintln(w, "error chain:")
	for i, c := range e.ErrorChain {
		fmt.Fprintf(w, "  %s%s\n", strings.Repeat("  ", i), c)
	}
	fmt.Fprintln(w, "payload:")
	fmt.Fprintln(w, string(e.Payload))
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func truncate(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}
