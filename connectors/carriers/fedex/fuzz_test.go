package fedex

import (
	"net/http"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/paklog/integration-hub/connectors/carriers"
)

// FuzzParseResponse feeds any status and body to every parser of FedEx answers:
// none may panic, every error answer becomes a well-formed *carriers.Error, and a
// parsed label always has a tracking number and an image. Seeds are in
// testdata/fuzz/FuzzParseResponse: FedEx's documented answers and broken ones.
func FuzzParseResponse(f *testing.F) {
	f.Add(400, []byte(`{"transactionId":"t","errors":[{"code":"INVALID.INPUT.EXCEPTION","message":"Invalid field value in the input","parameterList":[{"key":"field","value":"requestedShipment.shipper.address.city"}]}]}`))
	f.Add(200, []byte(`{"output":{"transactionShipments":[{"pieceResponses":[{"trackingNumber":"794953555571","packageDocuments":[{"encodedLabel":"JVBERi0="}]}]}]}}`))
	now := time.Date(2026, 3, 10, 20, 30, 0, 0, time.UTC)
	valid := map[carriers.Class]bool{carriers.Permanent: true, carriers.Auth: true, carriers.Throttled: true,
		carriers.Transient: true, carriers.Ambiguous: true}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		h := http.Header{"Content-Type": {"application/json"}, "Retry-After": {"3"}}
		for _, op := range []carriers.Op{carriers.OpToken, carriers.OpShip, carriers.OpVoid, carriers.OpLookup} {
			e := classify(op, op != carriers.OpShip, &carriers.Response{Status: status, Header: h, Body: body}, now, 10*time.Second)
			if e == nil || !valid[e.Class] || e.Status != status || e.Op != op || e.Carrier != carriers.FedEx {
				t.Fatalf("classify(%s, %d): %+v", op, status, e)
			}
			if utf8.RuneCountInString(e.Code) > maxCode || utf8.RuneCountInString(e.Message) > maxMessage ||
				utf8.RuneCountInString(e.Field) > maxField || !utf8.ValidString(e.Code+e.Message+e.Field) {
				t.Fatalf("classify copied too much or invalid text: %+v", e)
			}
			if e.RetryAfter < 0 || (e.Class == carriers.Throttled && e.RetryAfter == 0) {
				t.Fatalf("retry after %s for %s", e.RetryAfter, e.Class)
			}
			_ = e.Error()
		}
		if r, err := parseShip(body); err == nil && (r.Tracking == "" || len(r.Label) == 0 || r.Master == "") {
			t.Fatalf("parsed a label without tracking number or image: %+v", r)
		}
		if ok, reason, err := parseCancel(body); err == nil && !ok && reason.Message == "" {
			t.Fatal("a refused cancel without a reason")
		}
		if r, err := parseLookup(body); err == nil {
			if r.Found == nil {
				t.Fatal("lookup returned a nil list")
			}
			for _, fd := range r.Found {
				if fd.TrackingNumber == "" {
					t.Fatal("lookup found an empty tracking number")
				}
			}
		}
		if v, life, err := parseToken(body); err == nil && (v == "" || life < 0) {
			t.Fatalf("token %q life %s", v, life)
		}
	})
}
