// Package ups is a client of the UPS APIs that buy, cancel and find shipping labels,
// as published in UPS-API/api-documentation (fixtures/carriers/specs/ups):
//
//   - OAuth client credentials: POST /security/v1/oauth/token with HTTP Basic
//     (client id and secret) and grant_type=client_credentials; the token lasts
//     about four hours (expires_in "14399", a string) and is refreshed before then.
//   - Ship: POST /api/shipments/{version}/ship (version v2409 by default), one
//     package per call, billed to the shipper's own account.
//   - Void: DELETE /api/shipments/{version}/void/cancel/{shipmentidentificationnumber}.
//   - Label Recovery: POST /api/labels/{version}/recovery by reference and shipper
//     number, which is how Lookup finds a label whose Ship call timed out.
//
// Every failure is a *carriers.Error whose Class tells the caller what to do next:
// UPS's error envelope
//
//	{"response":{"errors":[{"code":"120802","message":"Address Validation Error on ShipTo address"}]}}
//
// gives Code, Message and Field (the request element, where the code or message
// names one). The client retries nothing but the one token refresh after a 401; the
// caller adds breakers and retries.
//
// A short example:
//
//	c, err := ups.New(ups.Config{
//		BaseURL:       "https://wwwcie.ups.com",
//		ClientID:      id,
//		ClientSecret:  secret,
//		AccountNumber: "A1B2C3",
//	}, nil)
//	...
//	label, err := c.Ship(ctx, carriers.ShipRequest{RequestID: id, Reference: ref, Service: "03",
//		Format: canonical.LabelZPL, From: from, To: to,
//		Weight: canonical.Weight{Value: 2, Unit: canonical.Pound}})
//	if carriers.ClassOf(err) == carriers.Ambiguous {
//		found, _ := c.Lookup(ctx, carriers.LookupRequest{Reference: ref})
//		...
//	}
package ups
