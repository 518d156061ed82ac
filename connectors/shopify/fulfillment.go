package shopify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// Tracking is the carrier and tracking number of a shipment.
type Tracking struct {
	// Company is the carrier as Shopify knows it ("UPS", "FedEx", "USPS").
	Company string
	// Number is the tracking number: required, it is how a retry finds a
	// fulfilment already made.
	Number string
	// URL is the tracking page; Shopify builds one for known carriers when
	// empty.
	URL string
}

// FulfilLine is a quantity of one order line shipped: named by its line
// item id (the canonical line_number) or, when that is 0, by SKU.
type FulfilLine struct {
	LineItemID int64
	SKU        string
	Quantity   int64
}

// Fulfillment is a fulfilment in the shop.
type Fulfillment struct {
	ID       string // gid://shopify/Fulfillment/N
	Status   string
	Tracking []Tracking
	// Existing is true when CreateFulfillment found the fulfilment already
	// in the shop (by tracking number) instead of creating it.
	Existing bool
}

const fulfillmentStateQuery = `query FulfillmentState($id: ID!) {
  order(id: $id) {
    id
    fulfillmentOrders(first: 50) {
      nodes {
        id
        status
        lineItems(first: 250) {
          nodes { id remainingQuantity totalQuantity lineItem { id sku } }
        }
      }
    }
    fulfillments(first: 50) {
      id
      status
      trackingInfo(first: 10) { company number url }
    }
  }
}`

const fulfillmentCreateMutation = `mutation FulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status trackingInfo(first: 10) { company number url } }
    userErrors { field message }
  }
}`

type remoteFulfillment struct {
	ID           string `json:"id"`
	Status       string `json:"status"`
	TrackingInfo []struct {
		Company *string `json:"company"`
		Number  *string `json:"number"`
		URL     *string `json:"url"`
	} `json:"trackingInfo"`
}

func (f remoteFulfillment) public(existing bool) Fulfillment {
	out := Fulfillment{ID: f.ID, Status: f.Status, Existing: existing}
	for _, t := range f.TrackingInfo {
		out.Tracking = append(out.Tracking, Tracking{Company: deref(t.Company), Number: deref(t.Number), URL: deref(t.URL)})
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

type orderState struct {
	Order *struct {
		ID                string `json:"id"`
		FulfillmentOrders struct {
			Nodes []struct {
				ID        string `json:"id"`
				Status    string `json:"status"`
				LineItems struct {
					Nodes []struct {
						ID                string      `json:"id"`
						RemainingQuantity json.Number `json:"remainingQuantity"`
						LineItem          struct {
							ID  string  `json:"id"`
							SKU *string `json:"sku"`
						} `json:"lineItem"`
					} `json:"nodes"`
				} `json:"lineItems"`
			} `json:"nodes"`
		} `json:"fulfillmentOrders"`
		Fulfillments []remoteFulfillment `json:"fulfillments"`
	} `json:"order"`
}

// CreateFulfillment tells the shop that lines of order orderID shipped with
// tracking, through fulfillmentCreate. Empty lines fulfils everything still
// open.
//
// It is idempotent by tracking number: it first reads the order's
// fulfilment orders and fulfilments, and returns a fulfilment already
// carrying tracking.Number (Existing true) rather than making a second one.
// Lines are matched to the OPEN and IN_PROGRESS fulfilment orders' lines by
// line item id, else SKU, taking from each what remains. When the create
// times out or fails ambiguously, the state is read again before any retry,
// so a fulfilment that was made is found, not duplicated.
//
// Errors are *Error: Permanent for userErrors (ErrUserErrors, with field and
// message), an unknown order (ErrOrderNotFound), lines with nothing left
// (ErrNothingToFulfil), a missing tracking number; Ambiguous or Transient
// when retries ran out. Cancelling ctx stops between and within calls;
// the fulfilment may then exist, and the next call finds it.
func (c *Client) CreateFulfillment(ctx context.Context, orderID int64, tracking Tracking, lines []FulfilLine) (Fulfillment, error) {
	perm := func(msg string, err error) error {
		return &Error{Shop: c.cfg.Shop, Op: "fulfillmentCreate", Class: Permanent, Message: msg, Err: err}
	}
	if tracking.Number == "" {
		return Fulfillment{}, perm(fmt.Sprintf("order %d", orderID), ErrNoTrackingNumber)
	}
	for i, l := range lines {
		if l.Quantity <= 0 || l.LineItemID == 0 && l.SKU == "" {
			return Fulfillment{}, perm(fmt.Sprintf("order %d line %d: needs a line item id or SKU and a quantity above 0", orderID, i), ErrNothingToFulfil)
		}
	}
	exp := backoff.NewExponentialBackOff()
	exp.InitialInterval = c.cfg.RetryBase
	exp.MaxInterval = c.cfg.MaxWait
	exp.MaxElapsedTime = 0
	b := backoff.WithContext(backoff.WithMaxRetries(exp, uint64(c.cfg.MaxRetries)), ctx)
	attempt := 0
	return backoff.RetryNotifyWithData(func() (Fulfillment, error) {
		attempt++
		var st orderState
		err := c.do(ctx, call{op: "order", query: fulfillmentStateQuery,
			vars: map[string]any{"id": "gid://shopify/Order/" + strconv.FormatInt(orderID, 10)}}, &st)
		if err != nil {
			return Fulfillment{}, retryable(err)
		}
		if st.Order == nil {
			return Fulfillment{}, backoff.Permanent(perm(fmt.Sprintf("order %d", orderID), ErrOrderNotFound))
		}
		for _, f := range st.Order.Fulfillments {
			if f.Status == "CANCELLED" || f.Status == "ERROR" || f.Status == "FAILURE" {
				continue
			}
			for _, t := range f.TrackingInfo {
				if deref(t.Number) == tracking.Number {
					if attempt > 1 {
						c.log.Info("shopify fulfilment found after an ambiguous create", "order_id", orderID, "fulfillment", f.ID)
					}
					return f.public(true), nil
				}
			}
		}
		groups, err := plan(st, lines)
		if err != nil {
			return Fulfillment{}, backoff.Permanent(perm(fmt.Sprintf("order %d", orderID), err))
		}
		input := map[string]any{
			"lineItemsByFulfillmentOrder": groups,
			"trackingInfo":                map[string]any{"company": tracking.Company, "number": tracking.Number, "url": nilIfEmpty(tracking.URL)},
			"notifyCustomer":              true,
		}
		var data struct {
			FulfillmentCreate struct {
				Fulfillment *remoteFulfillment `json:"fulfillment"`
				UserErrors  []UserError        `json:"userErrors"`
			} `json:"fulfillmentCreate"`
		}
		err = c.do(ctx, call{op: "fulfillmentCreate", query: fulfillmentCreateMutation, mutation: true,
			vars: map[string]any{"fulfillment": input}}, &data)
		if err != nil {
			return Fulfillment{}, retryable(err)
		}
		if ue := data.FulfillmentCreate.UserErrors; len(ue) > 0 {
			return Fulfillment{}, backoff.Permanent(&Error{Shop: c.cfg.Shop, Op: "fulfillmentCreate", Class: Permanent,
				Message: fmt.Sprintf("order %d", orderID), UserErrors: ue, Err: ErrUserErrors})
		}
		if data.FulfillmentCreate.Fulfillment == nil {
			return Fulfillment{}, &Error{Shop: c.cfg.Shop, Op: "fulfillmentCreate", Class: Ambiguous,
				Message: fmt.Sprintf("order %d: no fulfilment and no userErrors in the answer", orderID)}
		}
		return data.FulfillmentCreate.Fulfillment.public(false), nil
	}, b, func(err error, wait time.Duration) {
		c.log.Warn("shopify fulfilment retried after reading the order again", "order_id", orderID, "attempt", attempt, "wait", wait, "error", err)
	})
}

// retryable lets an Ambiguous create be retried by the read-then-create
// loop; everything else stops it (do already retried what it could).
func retryable(err error) error {
	var e *Error
	if errors.As(err, &e) && e.Class == Ambiguous {
		return err
	}
	return backoff.Permanent(err)
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// plan splits the requested lines over the open fulfilment orders.
func plan(st orderState, lines []FulfilLine) ([]any, error) {
	type take struct {
		foID, lineID string
		qty          int64
	}
	type avail struct {
		foID, lineID, lineItemID, sku string
		remaining                     int64
	}
	var pool []*avail
	for _, fo := range st.Order.FulfillmentOrders.Nodes {
		if fo.Status != "OPEN" && fo.Status != "IN_PROGRESS" {
			continue
		}
		for _, l := range fo.LineItems.Nodes {
			rem, _ := l.RemainingQuantity.Int64()
			if rem > 0 {
				pool = append(pool, &avail{foID: fo.ID, lineID: l.ID, lineItemID: l.LineItem.ID, sku: deref(l.LineItem.SKU), remaining: rem})
			}
		}
	}
	var takes []take
	if len(lines) == 0 {
		for _, a := range pool {
			takes = append(takes, take{a.foID, a.lineID, a.remaining})
		}
	}
	var errs []error
	for _, want := range lines {
		need := want.Quantity
		gidWant := ""
		if want.LineItemID != 0 {
			gidWant = "gid://shopify/LineItem/" + strconv.FormatInt(want.LineItemID, 10)
		}
		for _, a := range pool {
			if need == 0 {
				break
			}
			if a.remaining == 0 || gidWant != "" && a.lineItemID != gidWant || gidWant == "" && a.sku != want.SKU {
				continue
			}
			q := min(need, a.remaining)
			a.remaining -= q
			need -= q
			takes = append(takes, take{a.foID, a.lineID, q})
		}
		if need > 0 {
			name := "SKU " + strconv.Quote(want.SKU)
			if want.LineItemID != 0 {
				name = "line item " + strconv.FormatInt(want.LineItemID, 10)
			}
			errs = append(errs, fmt.Errorf("%s: %d of %d not in an open fulfilment order: %w", name, need, want.Quantity, ErrNothingToFulfil))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(takes) == 0 {
		return nil, ErrNothingToFulfil
	}
	var groups []any
	byFO := map[string]int{}
	for _, t := range takes {
		i, ok := byFO[t.foID]
		if !ok {
			i = len(groups)
			byFO[t.foID] = i
			groups = append(groups, map[string]any{"fulfillmentOrderId": t.foID, "fulfillmentOrderLineItems": []any{}})
		}
		g := groups[i].(map[string]any)
		g["fulfillmentOrderLineItems"] = append(g["fulfillmentOrderLineItems"].([]any), map[string]any{"id": t.lineID, "quantity": t.qty})
	}
	return groups, nil
}
