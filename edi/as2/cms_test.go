package as2

import (
	"bytes"
	"encoding/asn1"
	"sync"
	"testing"

	"github.com/smallstep/pkcs7"
)

// Concurrent sends with different ciphers each get their own cipher, and
// the pkcs7 globals are restored afterwards.
func TestEncryptConcurrentCiphers(t *testing.T) {
	w := newWorld(t)
	before := pkcs7.ContentEncryptionAlgorithm
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 48 {
		c := []Cipher{AES128CBC, AES192CBC, AES256CBC}[i%3]
		wg.Go(func() {
			der, err := encrypt(x12, w.us.Keys[0].Cert, c)
			if err != nil {
				errs <- err
				return
			}
			d, err := decrypt(der, w.us.Keys)
			if err != nil {
				errs <- err
				return
			}
			if d.cipher != c || !bytes.Equal(d.plain, x12) {
				t.Errorf("asked for %s, got %s", c, d.cipher)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if pkcs7.ContentEncryptionAlgorithm != before {
		t.Fatalf("pkcs7.ContentEncryptionAlgorithm left at %d", pkcs7.ContentEncryptionAlgorithm)
	}
}

// Even if someone else in the binary switches pkcs7 to OAEP or GCM, we do
// not emit it.
func TestEncryptRefusesForeignGlobals(t *testing.T) {
	w := newWorld(t)
	pkcs7Mu.Lock()
	old := pkcs7.KeyEncryptionAlgorithm
	pkcs7.KeyEncryptionAlgorithm = pkcs7.OIDEncryptionAlgorithmRSAESOAEP
	pkcs7Mu.Unlock()
	defer func() { pkcs7.KeyEncryptionAlgorithm = old }()
	der, err := encrypt(x12, w.us.Keys[0].Cert, AES128CBC)
	if err != nil {
		t.Fatal(err)
	}
	env, err := parseEnvelope(der)
	if err != nil {
		t.Fatal(err)
	}
	var kt keyTransRecipientInfo
	if _, err := asn1.Unmarshal(env.RecipientInfos[0].FullBytes, &kt); err != nil || !kt.KeyEncryptionAlgorithm.Algorithm.Equal(oidRSAEncryption) {
		t.Fatalf("key transport %v, %v", kt.KeyEncryptionAlgorithm.Algorithm, err)
	}
}

// Hostile ciphertexts encrypted to our (public) certificate must fail
// cleanly: bad padding, not a whole number of blocks, empty.
func TestDecryptHostileCiphertext(t *testing.T) {
	w := newWorld(t)
	der, err := envelop(make([]byte, 32), w.us.Keys[0].Cert, AES192CBC)
	if err != nil {
		t.Fatal(err)
	}
	// flip the last ciphertext byte: padding becomes garbage (e.g. 200)
	bad := bytes.Clone(der)
	bad[len(bad)-1] ^= 0xc8
	_, err = decrypt(bad, w.us.Keys)
	wantModifier(t, err, DecryptionFailed)
	// truncate ciphertext by cutting the envelope short
	_, err = decrypt(der[:len(der)-5], w.us.Keys)
	wantModifier(t, err, DecryptionFailed)
}

func TestBERToDER(t *testing.T) {
	// SEQUENCE (indefinite) { OCTET STRING (constructed, indefinite) { "ab", "c" } }
	ber := []byte{0x30, 0x80, 0x24, 0x80, 0x04, 0x02, 'a', 'b', 0x04, 0x01, 'c', 0x00, 0x00, 0x00, 0x00}
	der, err := berToDER(ber)
	if err != nil {
		t.Fatal(err)
	}
	if want := []byte{0x30, 0x05, 0x04, 0x03, 'a', 'b', 'c'}; !bytes.Equal(der, want) {
		t.Fatalf("der = % x, want % x", der, want)
	}
	for _, bad := range [][]byte{{0x30, 0x80}, {0x04, 0x80, 0, 0}, {0x30, 0x85, 1, 1, 1, 1, 1}, {0x30, 0x05, 0x04}, append(bytes.Repeat([]byte{0x30, 0x80}, 100), 0, 0)} {
		if _, err := berToDER(bad); err == nil {
			t.Errorf("berToDER(% x) succeeded", bad)
		}
	}
}
