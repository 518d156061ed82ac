package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	x12 "github.com/paklog/integration-hub/edi/x12"
)

func ediAckCmd() *cobra.Command {
	var use997, use999, skipAccepted, envelopesOnly bool
	var firstControl int
	cmd := &cobra.Command{
		Use:   "ack FILE",
		Short: "Print every acknowledgement a file calls for (TA1, 997 or 999)",
		Long: `Read FILE and print the acknowledgements the hub would send back: a TA1 for an
interchange with envelope problems (its groups are then not acknowledged), otherwise a 997
or 999 per functional group naming every rejected set, segment and element. By default a
group of version 005010 or later gets a 999 and an older one a 997; --997 or --999 forces
one kind. Control numbers count up from --control.`,
		Example: `  paklog edi ack orders.edi
  paklog edi ack --999 --skip-accepted orders.edi`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if use997 && use999 {
				return fmt.Errorf("--997 and --999 exclude each other")
			}
			r, done, err := openInput(cmd, args[0])
			if err != nil {
				return err
			}
			defer done()
			kind := x12.AckByVersion
			switch {
			case use997:
				kind = x12.Ack997
			case use999:
				kind = x12.Ack999
			}
			next := map[string]int{}
			cfg := x12.AckConfig{
				Kind:         kind,
				SkipAccepted: skipAccepted,
				ControlNumber: func(segment string) string {
					n := firstControl + next[segment]
					next[segment]++
					return x12.FormatControlNumber(segment, int64(n))
				},
			}
			if !envelopesOnly {
				cfg.Options = []x12.Option{x12.WithSpecs(x12.StandardSpecs())}
			}
			w, err := x12.NewWriter(cmd.OutOrStdout(), x12.DefaultDelimiters, x12.WithLineEnding("\n"))
			if err != nil {
				return err
			}
			ackErr := x12.Acknowledge(r, w, cfg)
			if err := w.Flush(); err != nil {
				return err
			}
			if ackErr != nil {
				return fmt.Errorf("some of %s cannot be acknowledged:\n%w", args[0], ackErr)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&use997, "997", false, "answer every group with a 997")
	cmd.Flags().BoolVar(&use999, "999", false, "answer every group with a 999")
	cmd.Flags().BoolVar(&skipAccepted, "skip-accepted", false, "no 997/999 for a group whose sets are all accepted")
	cmd.Flags().BoolVar(&envelopesOnly, "envelopes", false, "check envelopes only, not set content")
	cmd.Flags().IntVar(&firstControl, "control", 1, "first control number")
	return cmd
}
