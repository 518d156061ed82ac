// Package carriers holds what the FedEx, UPS and USPS clients share: the request and
// label types, the one error type every carrier's error envelope is parsed into, the
// OAuth token cache, the HTTP call that tells a failure before sending from one
// after it, and the address normalisation every carrier needs (CountryCode,
// RegionCode, PhoneDigits, Truncate).
//
// The clients (connectors/carriers/fedex, ups, usps) speak one carrier each and know
// nothing of the hub: no store, no breaker, no retry. Resilience (breakers, retries,
// fallback, the label-request record) is the caller's: see internal/labels.
package carriers

import (
	"context"
	"errors"
	"time"

	"github.com/paklog/integration-hub/canonical"
)

// Carrier names, as in configuration, metrics and canonical.Label.Carrier.
const (
	FedEx = "fedex"
	UPS   = "ups"
	USPS  = "usps"
)

// Op is a carrier operation; each has its own circuit breaker.
type Op string

// Operations.
const (
	OpToken  Op = "token"
	OpShip   Op = "ship"
	OpVoid   Op = "void"
	OpLookup Op = "lookup"
)

// ShipRequest asks for the label of one package.
type ShipRequest struct {
	// RequestID is the hub's label-request record id (a UUID). USPS gets it as
	// X-Idempotency-Key; UPS as transId, FedEx as x-customer-transaction-id.
	RequestID string
	// Reference is the customer reference printed on the label and searchable at the
	// carrier (at most 35 characters): the hub uses the label-request id's first 35.
	Reference string
	// Service is the carrier's own service code: UPS "03", FedEx "FEDEX_GROUND",
	// USPS mail class "USPS_GROUND_ADVANTAGE".
	Service    string
	Format     canonical.LabelFormat
	From, To   canonical.Address
	Weight     canonical.Weight
	Dimensions canonical.Dimensions
	// ShipDate is the date the package is handed over (today when zero).
	ShipDate time.Time
}

// Label is what a carrier returned for one package.
type Label struct {
	Carrier        string
	Service        string
	TrackingNumber string
	// ShipmentID is the carrier's id of the shipment where it differs from the
	// tracking number (UPS ShipmentIdentificationNumber, FedEx master tracking
	// number); void uses it.
	ShipmentID string
	Format     canonical.LabelFormat
	// Data is the decoded label file.
	Data []byte
	Cost canonical.Money
}

// VoidRequest cancels a label.
type VoidRequest struct {
	RequestID      string
	TrackingNumber string
	ShipmentID     string
}

// LookupRequest asks the carrier which labels carry a reference, for reconciling a
// label request whose outcome is unknown.
type LookupRequest struct {
	RequestID string
	Reference string
	// ShipDate bounds the search where the carrier needs a date.
	ShipDate time.Time
}

// Found is a label the carrier has for a reference.
type Found struct {
	TrackingNumber string
	ShipmentID     string
}

// Client is one carrier account's API. Every method returns *Error for what the
// carrier (or the network) said, so the caller decides by its Class. Cancelling ctx
// abandons the call; if the request was already sent, the error is Ambiguous for
// Ship.
type Client interface {
	// Carrier is FedEx, UPS or USPS.
	Carrier() string
	// Token obtains (or reuses) every token the account needs to buy a label.
	Token(ctx context.Context) error
	// Ship buys the label of one package.
	Ship(ctx context.Context, r ShipRequest) (*Label, error)
	// Void cancels a label. A label that is already void is not an error.
	Void(ctx context.Context, r VoidRequest) error
	// Lookup lists labels bought with r.Reference (none: an empty slice).
	Lookup(ctx context.Context, r LookupRequest) ([]Found, error)
}

// ErrNoLookup is returned by Lookup for a carrier that needs none: USPS honours
// X-Idempotency-Key, so an unknown outcome is resolved by sending the same request
// again.
var ErrNoLookup = errors.New("this carrier has no label lookup by reference: resend with the same idempotency key")
