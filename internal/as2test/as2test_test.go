package as2test_test

import (
	"slices"
	"testing"

	"github.com/paklog/integration-hub/internal/as2test"
)

// The ASCII column of a hex dump is not an algorithm: random ciphertext that
// happens to spell "GCM" or "OAEP" there (it made the interop tests flaky) is not
// reported, while the algorithm lines are.
func TestCMSAlgorithms(t *testing.T) {
	printed := []byte(`CMS_ContentInfo: 
  contentType: pkcs7-envelopedData (1.2.840.113549.1.7.3)
  d.envelopedData: 
    recipientInfos:
      d.ktri: 
        keyEncryptionAlgorithm: 
          algorithm: rsaEncryption (1.2.840.113549.1.1.1)
          parameter: NULL
        encryptedKey: 
          0000 - 33 16 4f 41 45 50 77 5a-9a 2c 9a e7 15 b8 eb   3.OAEPwZ.,.....
    encryptedContentInfo: 
      contentEncryptionAlgorithm: 
        algorithm: aes-128-cbc (2.16.840.1.101.3.4.1.2)
      encryptedContent: 
        0087 - 82 5d 92 c5 b5 ea 7d 99-47 43 4d 16 05 dc 8c   .]....}.GCM....
`)
	got := as2test.CMSAlgorithms(printed)
	want := []string{"rsaEncryption (1.2.840.113549.1.1.1)", "aes-128-cbc (2.16.840.1.101.3.4.1.2)"}
	if !slices.Equal(got, want) {
		t.Fatalf("CMSAlgorithms = %q, want %q", got, want)
	}
}
