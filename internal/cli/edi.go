package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/paklog/integration-hub/internal/hub"
	"github.com/paklog/integration-hub/router"

	x12 "github.com/paklog/integration-hub/edi/x12"
	x12map "github.com/paklog/integration-hub/transforms/x12"
)

func ediCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "edi",
		Short: "Offline X12 tools: validate, parse, ack, translate, render",
		Long: `Offline X12 tools that need no running hub and no database. FILE may be "-" for stdin.
They read the file as a stream: memory is bounded by the largest transaction set, not
the file.`,
	}
	cmd.AddCommand(ediValidateCmd(), ediParseCmd(), ediTranslateCmd(), ediAckCmd(), ediRenderCmd())
	return cmd
}

// openInput opens FILE or stdin ("-").
func openInput(cmd *cobra.Command, name string) (io.Reader, func(), error) {
	if name == "-" {
		return bufio.NewReaderSize(cmd.InOrStdin(), 1<<16), func() {}, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err
	}
	return bufio.NewReaderSize(f, 1<<16), func() { f.Close() }, nil
}

// ediCounts is what a file held.
type ediCounts struct {
	Interchanges int `json:"interchanges"`
	Groups       int `json:"groups"`
	Sets         int `json:"sets"`
	SetsWithErrs int `json:"sets_with_errors"`
	Problems     int `json:"problems"`
}

// walkEDI decodes r, calling onSet for each complete set and onProblem for each
// problem as soon as it is known, and counts what it saw.
func walkEDI(r io.Reader, specs bool, onSet func(ev x12.Event) error, onProblem func(error)) (ediCounts, error) {
	var opts []x12.Option
	if specs {
		opts = append(opts, x12.WithSpecs(x12.StandardSpecs()))
	}
	d := x12.NewDecoder(r, opts...)
	var c ediCounts
	report := func(errs []error) {
		for _, e := range errs {
			c.Problems++
			onProblem(e)
		}
	}
	for {
		ev, err := d.Next()
		if errors.Is(err, io.EOF) {
			return c, nil
		}
		if err != nil {
			var se *x12.SyntaxError
			if errors.As(err, &se) {
				report([]error{err})
				continue
			}
			return c, err
		}
		switch ev.Kind {
		case x12.InterchangeStart:
			c.Interchanges++
		case x12.GroupStart:
			c.Groups++
		case x12.SetEnd:
			c.Sets++
			if len(ev.Set.Errors) > 0 {
				c.SetsWithErrs++
			}
			report(ev.Set.Errors)
			if onSet != nil {
				if err := onSet(ev); err != nil {
					return c, err
				}
			}
		case x12.GroupEnd:
			report(ev.Group.Errors)
		case x12.InterchangeEnd:
			report(ev.Interchange.Errors)
		}
	}
}

func ediValidateCmd() *cobra.Command {
	var asJSON, envelopesOnly bool
	var maxShown int
	cmd := &cobra.Command{
		Use:   "validate FILE",
		Short: "Check envelopes and set content; print every problem with its line",
		Long: `Check every interchange, group and transaction set of FILE: the ISA's fixed widths and
values, control numbers and counts in every trailer, and each set's segments and elements
against the X12 tables the hub has (--envelopes skips the tables). Every problem is
printed with its line, segment and element, and the X12 code a 997/999/TA1 would carry.
Exit status: 0 valid, 1 invalid (or unreadable).`,
		Example: `  paklog edi validate orders.edi
  cat orders.edi | paklog edi validate -
  paklog edi validate --json big.edi`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, done, err := openInput(cmd, args[0])
			if err != nil {
				return err
			}
			defer done()
			out := cmd.OutOrStdout()
			var problems []string
			shown := 0
			c, err := walkEDI(r, !envelopesOnly, nil, func(p error) {
				if asJSON {
					if len(problems) < maxShown {
						problems = append(problems, p.Error())
					}
					return
				}
				if shown < maxShown {
					fmt.Fprintln(out, p.Error())
					shown++
				}
			})
			if err != nil {
				return fmt.Errorf("reading %s: %w", args[0], err)
			}
			if asJSON {
				_ = printJSON(out, map[string]any{"valid": c.Problems == 0, "counts": c, "problems": problems})
			} else {
				if c.Problems > maxShown {
					fmt.Fprintf(out, "… and %d more problems (--max %d)\n", c.Problems-maxShown, maxShown)
				}
				verdict := "valid"
				if c.Problems > 0 {
					verdict = fmt.Sprintf("INVALID: %d problem(s), %d of %d sets with errors", c.Problems, c.SetsWithErrs, c.Sets)
				}
				fmt.Fprintf(out, "%s: %d interchange(s), %d group(s), %d set(s): %s\n", args[0], c.Interchanges, c.Groups, c.Sets, verdict)
			}
			if c.Problems > 0 || c.Interchanges == 0 {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON report")
	cmd.Flags().BoolVar(&envelopesOnly, "envelopes", false, "check envelopes only, not set content")
	cmd.Flags().IntVar(&maxShown, "max", 1000, "print at most this many problems (all are counted)")
	return cmd
}

// parsedSet is one set as `paklog edi parse --json` prints it.
type parsedSet struct {
	Interchange string     `json:"interchange"`
	Sender      string     `json:"sender"`
	Receiver    string     `json:"receiver"`
	Group       string     `json:"group"`
	Functional  string     `json:"functional_id"`
	Version     string     `json:"version"`
	Set         string     `json:"set"`
	Control     string     `json:"control_number"`
	Line        int        `json:"line"`
	Segments    [][]string `json:"segments"`
	Errors      []string   `json:"errors,omitempty"`
}

func ediParseCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "parse FILE",
		Short: "Print every transaction set as JSON, one per line",
		Long: `Print every transaction set of FILE as one JSON object per line: its envelope (sender,
receiver, group, version, control numbers), its segments as arrays of elements (the
segment id first), and its problems.`,
		Example: `  paklog edi parse orders.edi | jq '.segments[] | select(.[0]=="PO1")'`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, done, err := openInput(cmd, args[0])
			if err != nil {
				return err
			}
			defer done()
			enc := json.NewEncoder(cmd.OutOrStdout())
			_, err = walkEDI(r, false, func(ev x12.Event) error {
				ic, g, ts := ev.Interchange, ev.Group, ev.Set
				ps := parsedSet{Interchange: ic.ControlNumber, Sender: ic.SenderQualifier + ":" + ic.SenderID,
					Receiver: ic.ReceiverQualifier + ":" + ic.ReceiverID, Group: g.ControlNumber, Functional: g.FunctionalID,
					Version: g.Version, Set: ts.ID, Control: ts.ControlNumber, Line: ts.Line}
				for i := range ts.Segments {
					s := &ts.Segments[i]
					row := []string{s.ID}
					for e := 1; e <= s.Len(); e++ {
						row = append(row, s.Element(e).String())
					}
					ps.Segments = append(ps.Segments, row)
				}
				for _, e := range ts.Errors {
					ps.Errors = append(ps.Errors, e.Error())
				}
				return enc.Encode(ps)
			}, func(error) {})
			return err
		},
	}
	return cmd
}

func ediTranslateCmd() *cobra.Command {
	var partner string
	cmd := &cobra.Command{
		Use:   "translate FILE",
		Short: "Translate 850, 940 and 860 sets into canonical orders and cancels, one JSON per line",
		Long: `Translate every 850 purchase order and 940 warehouse shipping order of FILE into a
canonical paklog.order.v1 document, and every cancelling 940 or 860 into a
paklog.order_cancel.v1 (without the hub-assigned order_id and received_at),
one per line, with the partner's mapping from the configuration (partners[].x12.mapping;
the defaults for a partner it does not list). A set that cannot be translated
is reported on stderr with every problem, by line, segment and element; other sets go on.
Exit status: 0 all translated, 1 some could not be.`,
		Example: `  paklog edi translate --partner acme orders.edi`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, done, err := openInput(cmd, args[0])
			if err != nil {
				return err
			}
			defer done()
			cfg, err := loadConfig(cmd, nil)
			if err != nil {
				return err
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			// The partner's mapping from the configuration (partners[].x12.mapping),
			// or the defaults for a partner it does not list.
			opts := hub.EDIConfig(cfg).For(partner).Mapping
			failed := 0
			_, err = walkEDI(r, false, func(ev x12.Event) error {
				ts := ev.Set
				env := x12map.EnvelopeOf(partner, ts)
				if ts.ID != "850" && ts.ID != "940" && ts.ID != "860" {
					fmt.Fprintf(cmd.ErrOrStderr(), "set %s %s (line %d): not an order, change or cancel; skipped\n", ts.ID, ts.ControlNumber, ts.Line)
					return nil
				}
				if len(ts.Errors) > 0 {
					failed++
					fmt.Fprintf(cmd.ErrOrStderr(), "set %s %s (line %d) is not valid, not translated:\n", ts.ID, ts.ControlNumber, ts.Line)
					for _, e := range ts.Errors {
						fmt.Fprintf(cmd.ErrOrStderr(), "  %s\n", e)
					}
					return nil
				}
				o, c, problems, err := router.TranslateX12(ts, env, opts)
				if err != nil {
					return err
				}
				if len(problems) > 0 {
					failed++
					fmt.Fprintf(cmd.ErrOrStderr(), "set %s %s (line %d) could not be translated:\n", ts.ID, ts.ControlNumber, ts.Line)
					for _, e := range problems {
						fmt.Fprintf(cmd.ErrOrStderr(), "  %s\n", e)
					}
					return nil
				}
				if c != nil {
					return enc.Encode(c)
				}
				return enc.Encode(o)
			}, func(error) {})
			if err != nil {
				return err
			}
			if failed > 0 {
				return &exitError{code: 1, msg: fmt.Sprintf("%d set(s) could not be translated", failed)}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&partner, "partner", "edi", "source.partner of the translated orders")
	return cmd
}
