package magento

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// ShipRequest is the body of POST /V1/order/{id}/ship.
type ShipRequest struct {
	// Items to ship; empty ships everything left. OrderItemID is the
	// canonical line number: for a configurable product the parent item,
	// as transforms/magento maps it.
	Items  []ShipItem `json:"items,omitempty"`
	Notify bool       `json:"notify"`
	// Tracks are the tracking numbers. With at least one, a shipment that
	// already carries one of them means "already shipped".
	Tracks []Track `json:"tracks,omitempty"`
}

// ShipItem is one order item and the quantity shipped.
type ShipItem struct {
	OrderItemID int64   `json:"order_item_id"`
	Qty         float64 `json:"qty"`
}

// Track is a tracking number and its carrier ("ups", "fedex", "usps",
// "dhl" or "custom").
type Track struct {
	TrackNumber string `json:"track_number"`
	Title       string `json:"title"`
	CarrierCode string `json:"carrier_code"`
}

// ShipResult says what Ship did.
type ShipResult struct {
	// ShipmentID is the Magento shipment's entity_id: the one created, or
	// the existing one carrying our tracking number. 0 when the order had
	// nothing left to ship and no tracking number identifies a shipment.
	ShipmentID int64
	// AlreadyShipped is true when nothing was created because the order
	// was found shipped already (an earlier attempt whose answer was lost).
	AlreadyShipped bool
	// Attempts counts the POSTs sent.
	Attempts int
}

// Ship creates a shipment for an order. Magento's ship endpoint is not
// idempotent — each POST that arrives creates a shipment — so before every
// attempt, the first included (the hub may be redelivering), Ship looks
// for the shipment already made:
//
//   - with tracking numbers, a shipment of the order carrying one of them
//     (GET /V1/shipments?searchCriteria…order_id) is ours: its id is
//     returned with AlreadyShipped;
//   - without, an order whose requested items have nothing left to ship
//     (qty_ordered − max(qty_shipped, qty_refunded) − qty_canceled, from
//     GET /V1/orders/{id}) is taken as shipped.
//
// Transient and ambiguous failures (5xx, a timeout, a dropped connection)
// are retried up to Config.ShipAttempts times with exponential backoff
// from Config.RetryWait. Permanent and auth errors return at once.
// Cancelling ctx stops between attempts and abandons the one in flight,
// whose outcome is then unknown (class Ambiguous): call Ship again to
// settle it.
func (c *Client) Ship(ctx context.Context, orderID int64, req ShipRequest) (ShipResult, error) {
	var res ShipResult
	exp := backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(c.cfg.RetryWait),
		backoff.WithMaxElapsedTime(0),
	)
	bo := backoff.WithContext(backoff.WithMaxRetries(exp, uint64(c.cfg.ShipAttempts-1)), ctx)
	for {
		err := c.shipOnce(ctx, orderID, req, &res)
		if err == nil {
			return res, nil
		}
		switch ClassOf(err) {
		case Permanent, Auth:
			return res, err
		}
		wait := bo.NextBackOff()
		if wait == backoff.Stop {
			return res, fmt.Errorf("shipping magento order %d after %d attempts: %w", orderID, res.Attempts, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return res, fmt.Errorf("shipping magento order %d: %w (last error: %w)", orderID, context.Cause(ctx), err)
		case <-t.C:
		}
	}
}

func (c *Client) shipOnce(ctx context.Context, orderID int64, req ShipRequest, res *ShipResult) error {
	id, shipped, err := c.findShipment(ctx, orderID, req)
	if err != nil {
		return err
	}
	if shipped {
		res.ShipmentID, res.AlreadyShipped = id, true
		return nil
	}
	res.Attempts++
	var answer json.RawMessage
	path := "order/" + strconv.FormatInt(orderID, 10) + "/ship"
	if err := c.do(ctx, "ship", http.MethodPost, path, nil, req, &answer); err != nil {
		return err
	}
	sid, err := parseID(answer)
	if err != nil {
		// The shipment exists, its id is unreadable: the next attempt's
		// check finds it by tracking number.
		return &Error{Op: "ship", Status: http.StatusOK, Class: Ambiguous, Err: err}
	}
	res.ShipmentID = sid
	return nil
}

// parseID reads a shipment id answered as a JSON number or a string of
// digits (Magento versions differ).
func parseID(raw json.RawMessage) (int64, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return 0, fmt.Errorf("decoding shipment id: %w", err)
	}
	var s string
	switch v := v.(type) {
	case string:
		s = v
	default:
		s = string(raw)
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("shipment id %s is not a positive integer", raw)
	}
	return id, nil
}

// findShipment reports whether the shipment req asks for exists already.
func (c *Client) findShipment(ctx context.Context, orderID int64, req ShipRequest) (int64, bool, error) {
	if len(req.Tracks) > 0 {
		return c.ShipmentWithTrack(ctx, orderID, trackNumbers(req))
	}
	o, err := c.GetOrder(ctx, orderID)
	if err != nil {
		return 0, false, err
	}
	var body struct {
		Items []struct {
			ItemID       int64   `json:"item_id"`
			ParentItemID int64   `json:"parent_item_id"`
			Ordered      float64 `json:"qty_ordered"`
			Shipped      float64 `json:"qty_shipped"`
			Refunded     float64 `json:"qty_refunded"`
			Canceled     float64 `json:"qty_canceled"`
		} `json:"items"`
	}
	if err := json.Unmarshal(o.Body, &body); err != nil {
		return 0, false, &Error{Op: "get order", Status: http.StatusOK, Class: Permanent, Err: fmt.Errorf("reading items: %w", err)}
	}
	left := map[int64]float64{}
	for _, it := range body.Items {
		if it.ParentItemID == 0 {
			left[it.ItemID] = max(0, it.Ordered-max(it.Shipped, it.Refunded)-it.Canceled)
		}
	}
	if len(req.Items) == 0 {
		for _, q := range left {
			if q > 0 {
				return 0, false, nil
			}
		}
		return 0, true, nil
	}
	for _, it := range req.Items {
		if q, ok := left[it.OrderItemID]; !ok || q >= it.Qty {
			return 0, false, nil // unknown items are for the POST to refuse
		}
	}
	return 0, true, nil
}

func trackNumbers(req ShipRequest) []string {
	var out []string
	for _, t := range req.Tracks {
		if t.TrackNumber != "" {
			out = append(out, t.TrackNumber)
		}
	}
	return out
}

// ShipmentWithTrack looks through an order's shipments
// (GET /V1/shipments filtered by order_id) for one carrying any of the
// tracking numbers, and returns its entity_id.
func (c *Client) ShipmentWithTrack(ctx context.Context, orderID int64, trackNumbers []string) (int64, bool, error) {
	q := newCriteria().filter("order_id", "eq", strconv.FormatInt(orderID, 10))
	var resp struct {
		Items []struct {
			EntityID json.Number `json:"entity_id"`
			Tracks   []struct {
				TrackNumber string `json:"track_number"`
			} `json:"tracks"`
		} `json:"items"`
	}
	if err := c.do(ctx, "list shipments", http.MethodGet, "shipments", q.v, nil, &resp); err != nil {
		return 0, false, err
	}
	for _, sh := range resp.Items {
		for _, t := range sh.Tracks {
			if slices.Contains(trackNumbers, t.TrackNumber) {
				id, err := strconv.ParseInt(sh.EntityID.String(), 10, 64)
				if err != nil {
					return 0, false, &Error{Op: "list shipments", Status: http.StatusOK, Class: Permanent, Err: fmt.Errorf("shipment id %q: %w", sh.EntityID, err)}
				}
				return id, true, nil
			}
		}
	}
	return 0, false, nil
}
