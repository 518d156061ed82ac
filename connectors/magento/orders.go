package magento

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	transform "github.com/paklog/integration-hub/transforms/magento"
)

// TimeLayout is how the connector writes times to Magento's REST API (the
// updated_at filter): UTC, as Magento core reads and writes them. Times
// read from Magento go through transforms/magento.ParseTime, which also
// takes the ISO 8601 / RFC 3339 forms of extensions and proxies.
const TimeLayout = transform.TimeLayout

// RawOrder is one order entity as Magento served it, with the fields the
// poller needs read out. Body goes to transforms/magento.OrderFromREST.
type RawOrder struct {
	EntityID    int64
	IncrementID string
	State       string
	// UpdatedAt is the order's updated_at in UTC (transforms/magento.ParseTime);
	// zero when Magento sent none.
	UpdatedAt time.Time
	Body      json.RawMessage
}

func rawOrder(body json.RawMessage) (RawOrder, error) {
	var head struct {
		EntityID    json.Number `json:"entity_id"`
		IncrementID string      `json:"increment_id"`
		State       string      `json:"state"`
		UpdatedAt   string      `json:"updated_at"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return RawOrder{}, err
	}
	id, err := strconv.ParseInt(head.EntityID.String(), 10, 64)
	if err != nil || id <= 0 {
		return RawOrder{}, errNoID
	}
	o := RawOrder{EntityID: id, IncrementID: head.IncrementID, State: head.State, Body: body}
	if head.UpdatedAt != "" {
		t, err := transform.ParseTime(head.UpdatedAt)
		if err != nil {
			return RawOrder{}, fmt.Errorf("order %d: updated_at: %w", id, err)
		}
		o.UpdatedAt = t
	}
	return o, nil
}

// OrderPage is one page of ListOrdersUpdatedSince.
type OrderPage struct {
	// Orders are new orders in entity_id order, each once.
	Orders []RawOrder
	// Next is the cursor for the next page: the highest entity_id seen,
	// or the cursor given when none was.
	Next int64
	// Last is true when no page follows: Magento answered fewer than
	// pageSize orders, or nothing new (the repeated last page).
	Last bool
	// Repeated counts orders dropped because Magento sent them again (an
	// entity_id not above the cursor, or twice in the page).
	Repeated int
	// TotalCount is Magento's total_count for the query.
	TotalCount int
}

// ListOrdersUpdatedSince returns the first pageSize orders with
// updated_at >= since (UTC, whole seconds; the zero time is no bound) and
// entity_id > afterEntityID, in entity_id order.
//
// Paging is by keyset, never by currentPage: the caller passes the last
// page's Next as afterEntityID. That sidesteps Magento's quirks — a
// currentPage past the end repeats the last page, and records with equal
// sort keys come back in a different order on every request — and an
// answer that still holds orders at or below the cursor is detected,
// counted in Repeated, and ends the paging.
func (c *Client) ListOrdersUpdatedSince(ctx context.Context, since time.Time, afterEntityID int64, pageSize int) (OrderPage, error) {
	if pageSize <= 0 {
		return OrderPage{}, fmt.Errorf("listing magento orders: page size %d is not positive", pageSize)
	}
	q := newCriteria()
	if !since.IsZero() {
		q.filter("updated_at", "gteq", since.UTC().Format(TimeLayout))
	}
	q.filter("entity_id", "gt", strconv.FormatInt(afterEntityID, 10)).sort("entity_id", "ASC").page(pageSize, 1)
	var resp struct {
		Items      []json.RawMessage `json:"items"`
		TotalCount int               `json:"total_count"`
	}
	if err := c.do(ctx, "list orders", http.MethodGet, "orders", q.v, nil, &resp); err != nil {
		return OrderPage{}, err
	}
	page := OrderPage{Next: afterEntityID, TotalCount: resp.TotalCount}
	seen := map[int64]bool{}
	for i, item := range resp.Items {
		o, err := rawOrder(item)
		if err != nil {
			return OrderPage{}, &Error{Op: "list orders", Status: http.StatusOK, Class: Permanent, Err: fmt.Errorf("items[%d]: %w", i, err)}
		}
		if o.EntityID <= afterEntityID || seen[o.EntityID] {
			page.Repeated++
			continue
		}
		seen[o.EntityID] = true
		page.Orders = append(page.Orders, o)
		page.Next = max(page.Next, o.EntityID)
	}
	page.Last = len(resp.Items) < pageSize || len(page.Orders) == 0
	return page, nil
}

// GetOrder reads one order (GET /V1/orders/{id}).
func (c *Client) GetOrder(ctx context.Context, orderID int64) (RawOrder, error) {
	var body json.RawMessage
	if err := c.do(ctx, "get order", http.MethodGet, "orders/"+strconv.FormatInt(orderID, 10), nil, nil, &body); err != nil {
		return RawOrder{}, err
	}
	o, err := rawOrder(body)
	if err != nil {
		return RawOrder{}, &Error{Op: "get order", Status: http.StatusOK, Class: Permanent, Err: err}
	}
	return o, nil
}
