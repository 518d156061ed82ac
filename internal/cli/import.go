package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/paklog/integration-hub/adapters/csvimport"
	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/internal/hub"
	"github.com/paklog/integration-hub/internal/intake"
	"github.com/paklog/integration-hub/internal/store"
	csvorders "github.com/paklog/integration-hub/transforms/csv"
)

func importCmd() *cobra.Command {
	var partner string
	var asJSON, columns bool
	cmd := &cobra.Command{
		Use:   "import FILE.csv",
		Short: "Accept a CSV file of orders",
		Long: `Accept every good order of a CSV file, durably, through the same path as the order API,
and report every bad row with its line, column and reason. Good orders are accepted even
when other rows are bad. The orders wait in the hub's database until 'paklog serve'
routes them. Importing the same file twice accepts nothing twice.

The columns are documented by --columns and in transforms/csv/README.md. "-" reads stdin.
Exit status: 0 all rows imported, 1 the file could not be read, 2 some rows were rejected.`,
		Example: `  paklog import orders.csv
  paklog import --partner acme orders.csv --json > report.json
  paklog import --columns`,
		Args: func(cmd *cobra.Command, args []string) error {
			if columns {
				return nil
			}
			return cobra.ExactArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			if columns {
				for _, c := range csvorders.Columns() {
					need := "optional"
					if c.Required {
						need = "required"
					}
					fmt.Fprintf(out, "%-20s %-8s %s\n", c.Name, need, c.Format)
				}
				return nil
			}
			cfg, err := loadConfig(cmd, nil)
			if err != nil {
				return err
			}
			var r io.Reader = cmd.InOrStdin()
			var size int64 = -1
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				if fi, err := f.Stat(); err == nil {
					size = fi.Size()
				}
				r = f
			}
			log := newLogger(cfg, cmd.ErrOrStderr())
			st, err := store.Open(cmd.Context(), hub.StoreConfig(cfg), log)
			if err != nil {
				return err
			}
			defer st.Close()
			topics := hub.Topics(cfg)
			inbound := intake.Topics(string(canonical.ChannelCSV))
			for i := range inbound {
				inbound[i] = topics.Name(inbound[i])
			}
			if err := st.InitTopics(cmd.Context(), inbound...); err != nil {
				return err
			}
			in := intake.New(st, topics, intake.Config{MaxBatch: cfg.Ingest.MaxBatch, MaxWait: cfg.Ingest.MaxWait.Std()}, log)
			defer in.Close()

			icfg := csvimport.Config{Partner: partner}
			bar := progressBar(cmd.ErrOrStderr(), size)
			if bar != nil {
				var mu sync.Mutex
				icfg.Progress = func(n int64, s csvimport.Summary) {
					mu.Lock()
					defer mu.Unlock()
					_ = bar.Set64(n)
					bar.Describe(fmt.Sprintf("%d orders, %d rejected", s.Orders, s.Rejected))
				}
			}
			rep, err := csvimport.Import(cmd.Context(), in, r, icfg)
			if bar != nil {
				_ = bar.Finish()
				fmt.Fprintln(cmd.ErrOrStderr())
			}
			if rep == nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				_ = enc.Encode(rep)
			} else {
				printImportReport(out, rep)
			}
			if err != nil {
				return err
			}
			if rep.Rejected > 0 {
				return &exitError{code: 2}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&partner, "partner", "csv", "source.partner of the imported orders")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	cmd.Flags().BoolVar(&columns, "columns", false, "list the CSV columns and exit")
	return cmd
}

// progressBar draws on w when it is a terminal; nil otherwise.
func progressBar(w io.Writer, size int64) *progressbar.ProgressBar {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return progressbar.NewOptions64(size,
		progressbar.OptionSetWriter(w),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100_000_000),
		progressbar.OptionSetDescription("importing"),
	)
}

func printImportReport(w io.Writer, rep *csvimport.Report) {
	fmt.Fprintf(w, "%d orders read: %d accepted, %d already imported, %d rejected\n",
		rep.Orders, rep.Accepted, rep.Duplicates, rep.Rejected)
	if len(rep.Errors) > 0 {
		fmt.Fprintln(w, "\nRejected rows (fix them and import the file again; accepted orders will not be doubled):")
		for _, e := range rep.Errors {
			fmt.Fprintf(w, "  %s\n", e.Error())
		}
	}
}
