package as2_test

import (
	"bytes"
	"context"
	"fmt"

	"github.com/paklog/integration-hub/edi/as2"
)

// A partner sends us an X12 file and asks for a receipt; we parse it and
// answer; they check our MIC against theirs. Real profiles set Sign and
// Encrypt and carry certificates and keys; they are left out to keep the
// example short.
func Example() {
	us := &as2.Identity{ID: "PAKLOG"}
	acme := &as2.Identity{ID: "Acme Corp"}
	// Acme's profile of us, and ours of Acme
	acmeSeesUs := &as2.Partner{ID: "PAKLOG", MDN: as2.MDNRequest{Mode: as2.MDNSync}}
	weSeeAcme := &as2.Partner{ID: "Acme Corp"}

	req, err := as2.BuildRequest(acme, acmeSeesUs, as2.Payload{
		Data:        []byte("ISA*00*...~IEA*1*000000001~"),
		ContentType: "application/edi-x12",
		Filename:    "po.x12",
	}, as2.RequestOptions{MessageID: "<po-1@acme>"})
	if err != nil {
		panic(err)
	}

	recv, _ := as2.NewReceiver(as2.DefaultConfig(), as2.ResolverFunc(
		func(ctx context.Context, partner, ours string) (*as2.Partner, *as2.Identity, error) {
			if partner == "Acme Corp" && ours == "PAKLOG" {
				return weSeeAcme, us, nil
			}
			return nil, nil, as2.ErrUnknownPartner
		}))
	msg, err := recv.Parse(context.Background(), req.Header, bytes.NewReader(req.Body))
	fmt.Println(msg.From, "→", msg.To, msg.Payload.Filename, msg.Payload.ContentType, err)

	mdn, err := as2.BuildMDN(msg, err, as2.MDNOptions{MessageID: "<mdn-1@paklog>"})
	if err != nil {
		panic(err)
	}
	fmt.Println(as2.DispositionFor(nil))

	// Acme reads the receipt and compares MICs.
	acmeRecv, _ := as2.NewReceiver(as2.DefaultConfig(), as2.ResolverFunc(
		func(ctx context.Context, partner, ours string) (*as2.Partner, *as2.Identity, error) {
			return acmeSeesUs, acme, nil
		}))
	receipt, err := acmeRecv.ParseMDN(context.Background(), mdn.Header, bytes.NewReader(mdn.Body))
	if err != nil {
		panic(err)
	}
	fmt.Println(receipt.OriginalMessageID, receipt.Err(), receipt.CheckMIC(req.MIC))
	// Output:
	// Acme Corp → PAKLOG po.x12 application/edi-x12 <nil>
	// automatic-action/MDN-sent-automatically; processed
	// <po-1@acme> <nil> <nil>
}
