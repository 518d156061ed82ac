package csv

import (
	"bytes"
	stdcsv "encoding/csv"
	"encoding/json"
	"io"
	"os"
	"reflect"
	"strconv"
	"testing"

	"github.com/paklog/integration-hub/canonical"
)

// FuzzReader checks that no input makes the reader panic or loop, that
// every batch is an order or errors within its own lines, that every
// order is a valid paklog.order.v1 once the hub fills in its id, and that
// the orders written back to CSV read back the same.
// Seeds: testdata/fuzz/FuzzReader, and the sample files.
func FuzzReader(f *testing.F) {
	for _, name := range []string{"testdata/sample-orders.csv", "testdata/orders.csv"} {
		f.Add(mustRead(f, name))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		orders := readOrders(t, data)
		if len(orders) == 0 {
			return
		}
		if j, _ := json.Marshal(orders); bytes.Contains(j, []byte(`\r`)) {
			return // encoding/csv reads "\r\n" inside quotes as "\n"
		}
		again := readOrders(t, writeOrders(t, orders))
		if !reflect.DeepEqual(orders, again) {
			t.Fatalf("read → write → read changed the orders:\n%+v\n%+v", orders, again)
		}
	})
}

func mustRead(f *testing.F, name string) []byte {
	b, err := os.ReadFile(name)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// readOrders reads data, checks what must hold of every batch, and returns
// the orders.
func readOrders(t *testing.T, data []byte) []canonical.Order {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data), Config{Partner: "fuzz"})
	if err != nil {
		return nil
	}
	var orders []canonical.Order
	for i := 0; ; i++ {
		if i > len(data)+1 {
			t.Fatal("more batches than the input has bytes")
		}
		b, err := r.Next()
		if err == io.EOF {
			if r.BytesRead() != int64(len(data)) {
				t.Fatalf("BytesRead %d at the end of %d bytes", r.BytesRead(), len(data))
			}
			return orders
		}
		if err != nil {
			t.Fatalf("Next: %v", err) // no I/O errors and no MaxRows here
		}
		if (b.Order == nil) == (len(b.Errors) == 0) {
			t.Fatalf("batch with neither or both an order and errors: %+v", b)
		}
		if b.FirstLine < 1 || b.LastLine < b.FirstLine {
			t.Fatalf("batch lines %d-%d", b.FirstLine, b.LastLine)
		}
		for _, e := range b.Errors {
			if e.Line < b.FirstLine || e.Line > b.LastLine || e.Reason == "" {
				t.Fatalf("error %q outside its batch's lines %d-%d", e.Error(), b.FirstLine, b.LastLine)
			}
		}
		if b.Order != nil {
			c := *b.Order
			c.OrderID = placeholderOrderID
			c.Source.ReceivedAt = placeholderReceivedAt
			if err := c.Validate(); err != nil {
				t.Fatalf("order at lines %d-%d is not valid: %v", b.FirstLine, b.LastLine, err)
			}
			orders = append(orders, *b.Order)
		}
	}
}

// writeOrders writes orders in the import format, every column filled.
func writeOrders(t *testing.T, orders []canonical.Order) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := stdcsv.NewWriter(&buf)
	_ = w.Write(names())
	for _, o := range orders {
		for _, l := range o.Lines {
			var rec [numColumns]string
			rec[colOrderNumber] = o.OrderNumber
			rec[colExternalID] = o.Source.ExternalID
			rec[colOrderDate] = string(o.OrderDate)
			rec[colPurchaseOrder] = o.PurchaseOrder
			rec[colCustomerName] = o.Customer.Name
			rec[colCustomerEmail] = o.Customer.Email
			rec[colCustomerPhone] = o.Customer.Phone
			rec[colShipToName] = o.ShipTo.Name
			rec[colShipToCompany] = o.ShipTo.Company
			rec[colShipToAddress1] = o.ShipTo.Address1
			rec[colShipToAddress2] = o.ShipTo.Address2
			rec[colShipToCity] = o.ShipTo.City
			rec[colShipToRegion] = o.ShipTo.Region
			rec[colShipToPostalCode] = o.ShipTo.PostalCode
			rec[colShipToCountry] = o.ShipTo.Country
			rec[colShipToPhone] = o.ShipTo.Phone
			rec[colShipToEmail] = o.ShipTo.Email
			rec[colServiceLevel] = string(o.Shipping.ServiceLevel)
			rec[colCarrier] = o.Shipping.Carrier
			rec[colShipMethod] = o.Shipping.Method
			rec[colRequestedShipDate] = string(o.Shipping.RequestedShipDate)
			rec[colNotes] = o.Notes
			rec[colCurrency] = o.Currency
			rec[colLineNumber] = l.LineNumber
			rec[colSKU] = l.SKU
			rec[colUPC] = l.UPC
			rec[colDescription] = l.Description
			rec[colQuantity] = strconv.FormatFloat(l.Quantity, 'f', -1, 64)
			rec[colUOM] = l.UOM
			rec[colUnitPrice] = l.UnitPrice.Amount
			_ = w.Write(rec[:])
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
