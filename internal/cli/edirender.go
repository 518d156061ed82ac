package cli

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/paklog/integration-hub/canonical"
	x12 "github.com/paklog/integration-hub/edi/x12"
	x12map "github.com/paklog/integration-hub/transforms/x12"
)

func ediRenderCmd() *cobra.Command {
	var set, orderFile, confirmFile, inventoryFile, sender, receiver, control, lineEnding string
	var test bool
	cmd := &cobra.Command{
		Use:   "render --set 856|945|855|846",
		Short: "Write a canonical document as an X12 interchange",
		Long: `Render canonical JSON as one X12 004010 interchange on stdout, the way the hub sends it to
a partner: an 856 ship notice or a 945 shipping advice from a ship confirmation and its
order, an 855 acknowledgment from an order, an 846 from an inventory advice. The
interchange, group and set control numbers are all --control (the running hub keeps
gap-free sequences per partner).`,
		Example: `  paklog edi render --set 856 --confirm ship_confirm.json --order order.json --receiver ZZ:ACME
  paklog edi render --set 855 --order order.json --line-ending crlf`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			readJSON := func(flag, path string, decode func([]byte) error) error {
				if path == "" {
					return fmt.Errorf("--set %s needs --%s FILE", set, flag)
				}
				b, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				if err := decode(b); err != nil {
					return fmt.Errorf("%s: %w", path, err)
				}
				return nil
			}
			var o canonical.Order
			var c canonical.ShipConfirm
			var inv canonical.InventoryAdvice
			var err error
			switch set {
			case "856", "945":
				err = readJSON("order", orderFile, func(b []byte) (e error) { o, e = canonical.DecodeOrder(b); return })
				if err == nil {
					err = readJSON("confirm", confirmFile, func(b []byte) (e error) { c, e = canonical.DecodeShipConfirm(b); return })
				}
			case "855":
				err = readJSON("order", orderFile, func(b []byte) (e error) { o, e = canonical.DecodeOrder(b); return })
			case "846":
				err = readJSON("inventory", inventoryFile, func(b []byte) (e error) { inv, e = canonical.DecodeInventoryAdvice(b); return })
			default:
				return fmt.Errorf("--set %q: 856, 945, 855 or 846", set)
			}
			if err != nil {
				return err
			}
			sq, sid, ok1 := strings.Cut(sender, ":")
			rq, rid, ok2 := strings.Cut(receiver, ":")
			if !ok1 || !ok2 {
				return fmt.Errorf("--sender and --receiver are QUALIFIER:ID, like ZZ:PAKLOG")
			}
			le := map[string]string{"none": "", "lf": "\n", "crlf": "\r\n"}[lineEnding]
			if _, known := map[string]bool{"none": true, "lf": true, "crlf": true}[lineEnding]; !known {
				return fmt.Errorf("--line-ending %q: none, lf or crlf", lineEnding)
			}
			now := time.Now().UTC()
			w, err := x12.NewWriter(cmd.OutOrStdout(), x12.DefaultDelimiters, x12.WithLineEnding(le))
			if err != nil {
				return err
			}
			usage := "P"
			if test {
				usage = "T"
			}
			ctl9 := fmt.Sprintf("%09s", control)
			if err := w.BeginInterchange(&x12.Interchange{SenderQualifier: sq, SenderID: sid, ReceiverQualifier: rq, ReceiverID: rid,
				Date: now.Format("060102"), Time: now.Format("1504"), Version: "00401", ControlNumber: ctl9, Usage: usage}); err != nil {
				return err
			}
			if err := w.BeginGroup(&x12.FunctionalGroup{FunctionalID: x12map.FunctionalID(set), ApplicationSender: sid, ApplicationReceiver: rid,
				Date: now.Format("20060102"), Time: now.Format("1504"), ControlNumber: control, Agency: "X", Version: "004010"}); err != nil {
				return err
			}
			setCtl := fmt.Sprintf("%04s", control)
			opts := x12map.OutboundOptions{Now: now}
			switch set {
			case "856":
				err = x12map.WriteASN856(w, setCtl, c, o, opts)
			case "945":
				err = x12map.WriteShipAdvice945(w, setCtl, c, o, opts)
			case "855":
				err = x12map.WriteOrderAck855(w, setCtl, o, opts)
			case "846":
				err = x12map.WriteInventory846(w, setCtl, inv, opts)
			}
			if err != nil {
				return err
			}
			if err := w.EndGroup(); err != nil {
				return err
			}
			if err := w.EndInterchange(); err != nil {
				return err
			}
			return w.Flush()
		},
	}
	cmd.Flags().StringVar(&set, "set", "", "856, 945, 855 or 846")
	cmd.Flags().StringVar(&orderFile, "order", "", "the paklog.order.v1 JSON (856, 945, 855)")
	cmd.Flags().StringVar(&confirmFile, "confirm", "", "the paklog.ship_confirm.v1 JSON (856, 945)")
	cmd.Flags().StringVar(&inventoryFile, "inventory", "", "the paklog.inventory_advice.v1 JSON (846)")
	cmd.Flags().StringVar(&sender, "sender", "ZZ:PAKLOG", "ISA05:ISA06")
	cmd.Flags().StringVar(&receiver, "receiver", "ZZ:PARTNER", "ISA07:ISA08")
	cmd.Flags().StringVar(&control, "control", "1", "control number (ISA13, GS06 and ST02)")
	cmd.Flags().StringVar(&lineEnding, "line-ending", "lf", "after each segment: none, lf or crlf")
	cmd.Flags().BoolVar(&test, "test", false, "mark the interchange as test data (ISA15 T)")
	return cmd
}
