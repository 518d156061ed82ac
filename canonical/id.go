package canonical

import (
	"crypto/rand"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// OrderIDPrefix starts every order_id.
const OrderIDPrefix = "ord_"

var (
	idMu      sync.Mutex
	idEntropy = ulid.Monotonic(rand.Reader, 0)
)

// NewOrderID returns a new order id: "ord_" and a ULID (26 characters of
// Crockford base32, time-ordered to the millisecond). IDs made by one process
// sort in the order they were made, even within a millisecond; the random
// part comes from crypto/rand. Safe for concurrent use.
//
// NewOrderID makes a fresh id: giving the same source order the same id
// every time it arrives is the intake store's job (look the source's
// channel, partner and external_id up first).
func NewOrderID() string {
	return OrderIDPrefix + newULID().String()
}

func newULID() ulid.ULID {
	now := ulid.Timestamp(time.Now())
	idMu.Lock()
	id, err := ulid.New(now, idEntropy)
	idMu.Unlock()
	if err != nil {
		// The monotonic entropy ran out within one millisecond (2^80 ids)
		// or crypto/rand failed: fall back to an unordered random id.
		id = ulid.MustNew(now, rand.Reader)
	}
	return id
}
