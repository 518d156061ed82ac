// Package fedex buys, voids and finds FedEx labels through FedEx's REST APIs.
//
// It speaks three of them, as the FedEx Developer Portal publishes them:
//
//   - API Authorization: POST /oauth/token, grant_type=client_credentials with the
//     project's API Key and Secret Key in the form body; the bearer token lives
//     expires_in seconds (3599) and is shared by every call (carriers.TokenCache).
//   - Ship API: POST /ship/v1/shipments buys one package's label, the image base64
//     in the answer (labelResponseOptions LABEL); PUT /ship/v1/shipments/cancel voids
//     it (DELETE_ALL_PACKAGES).
//   - Track API, Track by References: POST /track/v1/referencenumbers finds the
//     labels bought with a CUSTOMER_REFERENCE, to settle a Ship whose outcome is
//     unknown.
//
// Every failure is a *carriers.Error whose Class tells the caller what to do; its
// Code, Message and Field come from FedEx's error envelope:
//
//	{"transactionId":"624deea6-…","customerTransactionId":"<RequestID>",
//	 "errors":[{"code":"RECIPIENT.POSTALSTATE.MISMATCH","message":"…",
//	            "parameterList":[{"key":"field","value":"requestedShipment.recipients[0].address.stateOrProvinceCode"}]}]}
//
// A minimal use:
//
//	c, err := fedex.New(fedex.Config{
//		BaseURL:       fedex.SandboxURL,
//		ClientID:      apiKey,
//		ClientSecret:  fedex.Secret(secretKey),
//		AccountNumber: "740561073",
//	}, nil)
//	if err != nil {
//		return err
//	}
//	label, err := c.Ship(ctx, carriers.ShipRequest{RequestID: id, Reference: id[:35],
//		Service: fedex.ServiceGround, Format: canonical.LabelZPL, From: dc, To: customer,
//		Weight: canonical.Weight{Value: 2.5, Unit: canonical.Pound}})
//	switch carriers.ClassOf(err) {
//	case carriers.Ambiguous: // reconcile with c.Lookup before buying again
//	}
//
// See README.md for the error mapping and what is not covered.
package fedex
