package as2_test

import (
	"errors"
	"fmt"

	"github.com/paklog/integration-hub/connectors/as2"
	edias2 "github.com/paklog/integration-hub/edi/as2"
)

// Validate names every bad field, so that a partner profile can be fixed in one
// go.
func ExampleProfile_Validate() {
	p := &as2.Profile{
		LocalID:     "PAKLOG",
		PartnerID:   "ACME",
		URL:         "ftp://as2.acme.example/receive",
		Unsigned:    true,
		Unencrypted: true,
		Cipher:      edias2.DES3CBC,
		MDN:         edias2.MDNAsync,
	}
	var pe *as2.ProfileError
	if errors.As(p.Validate(), &pe) {
		for _, f := range pe.Fields {
			fmt.Println(f)
		}
	}
	// Output:
	// URL: "ftp://as2.acme.example/receive" is not an absolute http or https URL
	// Cipher: des-ede3-cbc cannot be sent; want aes128-cbc, aes192-cbc or aes256-cbc
	// ReceiptURL: empty (required for an asynchronous MDN)
}
