// Package csvimport is the CSV bulk import adapter behind `paklog import orders.csv`:
// it reads the file with transforms/csv (the format is documented there), accepts each
// good order through the same durable intake as the order API, and reports every bad
// row with its line, column and reason without stopping the good orders.
//
// Each order's idempotency key is its external id, so importing the same file again
// accepts nothing twice: those orders are reported as already imported.
package csvimport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/internal/intake"
	csvorders "github.com/paklog/integration-hub/transforms/csv"
)

// Config tunes an import.
type Config struct {
	// Partner is source.partner of every order (default "csv").
	Partner string
	// Concurrency is how many orders are in flight to the intake at once (default 64);
	// the intake commits them in groups.
	Concurrency int
	// Progress, if set, is called after each order with the bytes read so far.
	Progress func(bytesRead int64, s Summary)
}

// Summary counts what an import did.
type Summary struct {
	Orders     int `json:"orders"`     // orders read
	Accepted   int `json:"accepted"`   // newly accepted
	Duplicates int `json:"duplicates"` // accepted by an earlier import
	Rejected   int `json:"rejected"`   // not accepted: see Report.Errors
}

// Imported is one order the import accepted (or found accepted before).
type Imported struct {
	OrderNumber string `json:"order_number"`
	OrderID     string `json:"order_id"`
	FirstLine   int    `json:"first_line"`
	Duplicate   bool   `json:"duplicate"`
}

// Report is the outcome of an import.
type Report struct {
	Summary
	Imported []Imported           `json:"imported"`
	Errors   []csvorders.RowError `json:"errors"`
}

// Import reads r and accepts every good order through in. It returns an error only if
// the file cannot be read at all (no header, an I/O error); bad rows are in the report.
// When ctx ends it stops reading, waits for the orders in flight and returns what it
// did with ctx's error.
func Import(ctx context.Context, in *intake.Intake, r io.Reader, cfg Config) (*Report, error) {
	if cfg.Partner == "" {
		cfg.Partner = "csv"
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 64
	}
	rd, err := csvorders.NewReader(r, csvorders.Config{Partner: cfg.Partner})
	if err != nil {
		return nil, err
	}
	rep := &Report{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, cfg.Concurrency)
	progress := func() {
		if cfg.Progress != nil {
			cfg.Progress(rd.BytesRead(), rep.Summary)
		}
	}
	var readErr error
	for ctx.Err() == nil {
		b, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			readErr = err
			break
		}
		mu.Lock()
		rep.Orders++
		if b.Order == nil {
			rep.Rejected++
			rep.Errors = append(rep.Errors, b.Errors...)
			progress()
			mu.Unlock()
			continue
		}
		mu.Unlock()
		sem <- struct{}{}
		wg.Add(1)
		go func(b *csvorders.Batch) {
			defer func() { <-sem; wg.Done() }()
			res, err := accept(ctx, in, b.Order)
			mu.Lock()
			defer mu.Unlock()
			defer progress()
			if err != nil {
				rep.Rejected++
				rep.Errors = append(rep.Errors, csvorders.RowError{Line: b.FirstLine, Column: "order_number",
					Value: b.Order.OrderNumber, Reason: rejection(err)})
				return
			}
			if res.Duplicate {
				rep.Duplicates++
			} else {
				rep.Accepted++
			}
			rep.Imported = append(rep.Imported, Imported{OrderNumber: b.Order.OrderNumber, OrderID: res.OrderID, FirstLine: b.FirstLine, Duplicate: res.Duplicate})
		}(b)
	}
	wg.Wait()
	slices.SortFunc(rep.Imported, func(a, b Imported) int { return a.FirstLine - b.FirstLine })
	slices.SortStableFunc(rep.Errors, func(a, b csvorders.RowError) int { return a.Line - b.Line })
	progress()
	if readErr != nil {
		return rep, fmt.Errorf("reading the file stopped at byte %d: %w", rd.BytesRead(), readErr)
	}
	return rep, ctx.Err()
}

func accept(ctx context.Context, in *intake.Intake, o *canonical.Order) (intake.Result, error) {
	body, err := o.MarshalJSON()
	if err != nil {
		return intake.Result{}, err
	}
	return in.Accept(ctx, intake.Item{
		Source:         string(canonical.ChannelCSV),
		Partner:        o.Source.Partner,
		IdempotencyKey: "order:" + o.Source.ExternalID,
		Payload:        body,
		ContentType:    "application/json",
		Order:          o,
	})
}

func rejection(err error) string {
	var c *intake.ConflictError
	if errors.As(err, &c) {
		return c.Reason
	}
	return "not confirmed stored (" + err.Error() + "); import the file again: orders already stored are not doubled"
}
