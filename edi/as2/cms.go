package as2

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/smallstep/pkcs7"
)

// pkcs7Mu guards the algorithm choices smallstep/pkcs7 keeps in package
// variables (ContentEncryptionAlgorithm, KeyEncryptionAlgorithm,
// KeyEncryptionHash), so that concurrent sends to partners with different
// ciphers cannot pick up each other's choice. Code outside this package that
// changes those variables is not covered; encrypt therefore re-reads what it
// produced and refuses anything but the requested AES-CBC with RSA PKCS#1 v1.5.
var pkcs7Mu sync.Mutex

// OIDs not exported by pkcs7.
var (
	oidRSAEncryption  = pkcs7.OIDEncryptionAlgorithmRSA
	oidCompressedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 9}
	oidZlibCompress   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 3, 8}
)

// guard turns a panic inside third-party ASN.1/CMS code into an error:
// hostile input must not take the receiver down.
func guard(op string, err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%s: malformed CMS structure (%v)", op, r)
	}
}

// sign returns a detached CMS SignedData over content.
func sign(content []byte, kp KeyPair, d Digest) (der []byte, err error) {
	defer guard("signing", &err)
	sd, err := pkcs7.NewSignedData(content)
	if err != nil {
		return nil, fmt.Errorf("creating SignedData: %w", err)
	}
	sd.SetDigestAlgorithm(d.oid())
	if err := sd.AddSigner(kp.Cert, kp.Key, pkcs7.SignerInfoConfig{}); err != nil {
		return nil, fmt.Errorf("signing with %s: %w", certName(kp.Cert), err)
	}
	sd.Detach()
	return sd.Finish()
}

// verified is the outcome of a successful signature check.
type verified struct {
	cert   *x509.Certificate // the partner certificate that matched
	digest Digest
}

// verifySignature checks a detached CMS signature over content against the
// partner's certificates, valid at now. Only certificates from certs are
// trusted; certificates embedded in the signature are ignored.
func verifySignature(sigDER, content []byte, certs []*x509.Certificate, now time.Time) (v verified, err error) {
	const op = "verifying signature"
	defer guard(op, &err)
	der, err := berToDER(sigDER)
	if err != nil {
		return v, newError(AuthenticationFailed, op, fmt.Errorf("%w: decoding CMS signature: %w", ErrBadSignature, err))
	}
	p7, err := pkcs7.Parse(der)
	if err != nil {
		return v, newError(AuthenticationFailed, op, fmt.Errorf("%w: parsing CMS signature: %w", ErrBadSignature, err))
	}
	if len(p7.Signers) != 1 {
		return v, errorf(AuthenticationFailed, op, "%w: %d signers, want exactly 1", ErrBadSignature, len(p7.Signers))
	}
	si := p7.Signers[0]
	d, ok := digestForOID(si.DigestAlgorithm.Algorithm)
	if !ok {
		return v, errorf(AuthenticationFailed, op, "%w: it uses digest %s; supported: sha-1, sha-256, sha-384, sha-512", ErrBadSignature, si.DigestAlgorithm.Algorithm)
	}
	signer := issuerSerial(si.IssuerAndSerialNumber.IssuerName.FullBytes, si.IssuerAndSerialNumber.SerialNumber)
	var match *x509.Certificate
	for _, c := range certs {
		if c != nil && c.SerialNumber.Cmp(si.IssuerAndSerialNumber.SerialNumber) == 0 &&
			bytes.Equal(c.RawIssuer, si.IssuerAndSerialNumber.IssuerName.FullBytes) {
			match = c
			break
		}
	}
	if match == nil {
		return v, errorf(AuthenticationFailed, op,
			"%w: signed with certificate %s, which is not among the partner's certificates [%s]; import the partner's current certificate",
			ErrUnknownSigner, signer, certList(certs))
	}
	if now.Before(match.NotBefore) || now.After(match.NotAfter) {
		return v, errorf(AuthenticationFailed, op,
			"%w: partner certificate %s is valid from %s to %s, not at %s; ask the partner for their renewed certificate",
			ErrSignerNotValid, certName(match), match.NotBefore.UTC().Format(time.RFC3339), match.NotAfter.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	p7.Content = content
	p7.Certificates = []*x509.Certificate{match}
	if err := p7.VerifyWithChainAtTime(nil, now); err != nil {
		var mismatch *pkcs7.MessageDigestMismatchError
		if errors.As(err, &mismatch) {
			return v, errorf(IntegrityCheckFailed, op, "content digest does not match the signed digest: the payload was altered after signing")
		}
		return v, errorf(AuthenticationFailed, op, "%w with partner certificate %s: %v", ErrBadSignature, certName(match), err)
	}
	return verified{cert: match, digest: d}, nil
}

// encrypt wraps content in CMS EnvelopedData for recipient with RSA PKCS#1
// v1.5 key transport.
func encrypt(content []byte, recipient *x509.Certificate, c Cipher) (der []byte, err error) {
	defer guard("encrypting", &err)
	if recipient == nil {
		return nil, errors.New("no partner certificate to encrypt to")
	}
	if _, ok := recipient.PublicKey.(*rsa.PublicKey); !ok {
		return nil, fmt.Errorf("partner certificate %s has a %T key; CMS key transport needs RSA", certName(recipient), recipient.PublicKey)
	}
	switch c {
	case AES128CBC, AES256CBC:
		der, err = pkcs7Encrypt(content, recipient, c)
	case AES192CBC:
		// pkcs7 v0.2.3 has no AES-192; build the envelope here.
		der, err = envelop(content, recipient, c)
	default:
		return nil, fmt.Errorf("cipher %s cannot be used for sending; choose aes128-cbc, aes192-cbc or aes256-cbc", c)
	}
	if err != nil {
		return nil, err
	}
	// Never emit AES-GCM or RSA-OAEP, whatever the pkcs7 globals say.
	env, err := parseEnvelope(der)
	if err != nil {
		return nil, fmt.Errorf("re-reading our EnvelopedData: %w", err)
	}
	if !env.EncryptedContentInfo.ContentEncryptionAlgorithm.Algorithm.Equal(c.oid()) {
		return nil, fmt.Errorf("encryption produced content algorithm %s, want %s (pkcs7 globals changed outside this package?)",
			env.EncryptedContentInfo.ContentEncryptionAlgorithm.Algorithm, c)
	}
	for _, ri := range env.RecipientInfos {
		var kt keyTransRecipientInfo
		if _, err := asn1.Unmarshal(ri.FullBytes, &kt); err != nil || !kt.KeyEncryptionAlgorithm.Algorithm.Equal(oidRSAEncryption) {
			return nil, errors.New("encryption produced a key transport other than RSA PKCS#1 v1.5")
		}
	}
	return der, nil
}

func pkcs7Encrypt(content []byte, recipient *x509.Certificate, c Cipher) ([]byte, error) {
	pkcs7Mu.Lock()
	defer pkcs7Mu.Unlock()
	oldContent, oldKey, oldHash := pkcs7.ContentEncryptionAlgorithm, pkcs7.KeyEncryptionAlgorithm, pkcs7.KeyEncryptionHash
	defer func() {
		pkcs7.ContentEncryptionAlgorithm, pkcs7.KeyEncryptionAlgorithm, pkcs7.KeyEncryptionHash = oldContent, oldKey, oldHash
	}()
	pkcs7.ContentEncryptionAlgorithm = pkcs7.EncryptionAlgorithmAES128CBC
	if c == AES256CBC {
		pkcs7.ContentEncryptionAlgorithm = pkcs7.EncryptionAlgorithmAES256CBC
	}
	pkcs7.KeyEncryptionAlgorithm = oidRSAEncryption
	der, err := pkcs7.Encrypt(content, []*x509.Certificate{recipient})
	if err != nil {
		return nil, fmt.Errorf("encrypting with %s to %s: %w", c, certName(recipient), err)
	}
	return der, nil
}

// CMS structures for EnvelopedData (RFC 5652 §6), parsed here because pkcs7
// hides its RecipientInfos and lacks AES-192.
type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"explicit,optional,tag:0"`
}

type envelopedData struct {
	Version              int
	OriginatorInfo       asn1.RawValue   `asn1:"optional,tag:0"`
	RecipientInfos       []asn1.RawValue `asn1:"set"`
	EncryptedContentInfo encryptedContentInfo
	UnprotectedAttrs     asn1.RawValue `asn1:"optional,tag:1"`
}

type keyTransRecipientInfo struct {
	Version                int
	RID                    asn1.RawValue // IssuerAndSerialNumber or [0] SubjectKeyIdentifier
	KeyEncryptionAlgorithm pkix.AlgorithmIdentifier
	EncryptedKey           []byte
}

type issuerAndSerialNumber struct {
	Issuer asn1.RawValue
	Serial *big.Int
}

type encryptedContentInfo struct {
	ContentType                asn1.ObjectIdentifier
	ContentEncryptionAlgorithm pkix.AlgorithmIdentifier
	EncryptedContent           asn1.RawValue `asn1:"optional,tag:0"`
}

func parseContentInfo(b []byte) (contentInfo, error) {
	var ci contentInfo
	der, err := berToDER(b)
	if err != nil {
		return ci, err
	}
	rest, err := asn1.Unmarshal(der, &ci)
	if err != nil {
		return ci, fmt.Errorf("parsing ContentInfo: %w", err)
	}
	if len(rest) > 0 {
		return ci, errors.New("parsing ContentInfo: trailing data")
	}
	return ci, nil
}

func parseEnvelope(b []byte) (*envelopedData, error) {
	ci, err := parseContentInfo(b)
	if err != nil {
		return nil, err
	}
	if !ci.ContentType.Equal(pkcs7.OIDEnvelopedData) {
		return nil, fmt.Errorf("content type is %s, want EnvelopedData %s", ci.ContentType, pkcs7.OIDEnvelopedData)
	}
	var env envelopedData
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &env); err != nil {
		return nil, fmt.Errorf("parsing EnvelopedData: %w", err)
	}
	return &env, nil
}

// envelop builds EnvelopedData itself (used for AES-192-CBC).
func envelop(content []byte, recipient *x509.Certificate, c Cipher) ([]byte, error) {
	key := make([]byte, c.keyLen())
	iv := make([]byte, aes.BlockSize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if _, err := rand.Read(iv); err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	pad := aes.BlockSize - len(content)%aes.BlockSize
	plain := make([]byte, len(content)+pad)
	copy(plain, content)
	for i := len(content); i < len(plain); i++ {
		plain[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(plain, plain)
	ek, err := rsa.EncryptPKCS1v15(rand.Reader, recipient.PublicKey.(*rsa.PublicKey), key)
	if err != nil {
		return nil, fmt.Errorf("wrapping content key for %s: %w", certName(recipient), err)
	}
	ivDER, _ := asn1.Marshal(iv)
	rid, err := asn1.Marshal(issuerAndSerialNumber{Issuer: asn1.RawValue{FullBytes: recipient.RawIssuer}, Serial: recipient.SerialNumber})
	if err != nil {
		return nil, err
	}
	ri, err := asn1.Marshal(keyTransRecipientInfo{
		RID:                    asn1.RawValue{FullBytes: rid},
		KeyEncryptionAlgorithm: pkix.AlgorithmIdentifier{Algorithm: oidRSAEncryption, Parameters: asn1.NullRawValue},
		EncryptedKey:           ek,
	})
	if err != nil {
		return nil, err
	}
	env, err := asn1.Marshal(envelopedData{
		RecipientInfos: []asn1.RawValue{{FullBytes: ri}},
		EncryptedContentInfo: encryptedContentInfo{
			ContentType:                pkcs7.OIDData,
			ContentEncryptionAlgorithm: pkix.AlgorithmIdentifier{Algorithm: c.oid(), Parameters: asn1.RawValue{FullBytes: ivDER}},
			EncryptedContent:           asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, Bytes: plain},
		},
	})
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(contentInfo{
		ContentType: pkcs7.OIDEnvelopedData,
		Content:     asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: env},
	})
}

// decrypted is the outcome of a successful decryption.
type decrypted struct {
	plain  []byte
	cert   *x509.Certificate // which of our certificates the sender encrypted to
	cipher Cipher
}

// decrypt opens CMS EnvelopedData with whichever of keys the sender
// addressed, matched by RecipientInfo issuer+serial (or subject key id).
func decrypt(b []byte, keys []KeyPair) (d decrypted, err error) {
	const op = "decrypting"
	defer guard(op, &err)
	env, err := parseEnvelope(b)
	if err != nil {
		return d, newError(DecryptionFailed, op, err)
	}
	eci := env.EncryptedContentInfo
	c, ok := cipherForOID(eci.ContentEncryptionAlgorithm.Algorithm)
	if !ok {
		return d, errorf(DecryptionFailed, op, "content encrypted with %s; we accept aes128-cbc, aes192-cbc, aes256-cbc and des-ede3-cbc; ask the partner to switch cipher",
			eci.ContentEncryptionAlgorithm.Algorithm)
	}
	var recips []string
	var kt keyTransRecipientInfo
	var kp *KeyPair
	for _, raw := range env.RecipientInfos {
		var ri keyTransRecipientInfo
		if raw.Class != asn1.ClassUniversal || raw.Tag != asn1.TagSequence {
			recips = append(recips, "(non key-transport recipient)")
			continue
		}
		if _, err := asn1.Unmarshal(raw.FullBytes, &ri); err != nil {
			recips = append(recips, "(unparsable recipient)")
			continue
		}
		name, match := recipientMatcher(ri.RID)
		recips = append(recips, name)
		for i := range keys {
			if keys[i].Cert != nil && match(keys[i].Cert) {
				kt, kp = ri, &keys[i]
				break
			}
		}
		if kp != nil {
			break
		}
	}
	if kp == nil {
		return d, errorf(DecryptionFailed, op, "no key matches recipient %s; our keys: [%s]; the partner is encrypting to a certificate we do not hold: send them our current certificate",
			strings.Join(recips, ", "), keyList(keys))
	}
	if !kt.KeyEncryptionAlgorithm.Algorithm.Equal(oidRSAEncryption) {
		return d, errorf(DecryptionFailed, op, "key transport %s not supported; ask the partner to use RSA PKCS#1 v1.5 (rsaEncryption)", kt.KeyEncryptionAlgorithm.Algorithm)
	}
	dec, ok := kp.Key.(crypto.Decrypter)
	if !ok {
		return d, errorf(DecryptionFailed, op, "our key for %s (%T) cannot decrypt", certName(kp.Cert), kp.Key)
	}
	// SessionKeyLen makes a bad RSA padding yield a random key instead of an
	// error (Bleichenbacher countermeasure); the CBC padding check then fails.
	key, err := dec.Decrypt(rand.Reader, kt.EncryptedKey, &rsa.PKCS1v15DecryptOptions{SessionKeyLen: c.keyLen()})
	if err != nil {
		return d, errorf(DecryptionFailed, op, "unwrapping content key with %s: %v", certName(kp.Cert), err)
	}
	var block cipher.Block
	if c == DES3CBC {
		block, err = des.NewTripleDESCipher(key)
	} else {
		block, err = aes.NewCipher(key)
	}
	if err != nil {
		return d, newError(DecryptionFailed, op, err)
	}
	var iv []byte
	if _, err := asn1.Unmarshal(eci.ContentEncryptionAlgorithm.Parameters.FullBytes, &iv); err != nil || len(iv) != block.BlockSize() {
		return d, errorf(DecryptionFailed, op, "%s IV missing or not %d bytes", c, block.BlockSize())
	}
	ct := eci.EncryptedContent.Bytes
	if eci.EncryptedContent.IsCompound { // BER-streamed: [0] { OCTET STRING… }
		var buf bytes.Buffer
		for rest := ct; len(rest) > 0; {
			var chunk []byte
			rest, err = asn1.Unmarshal(rest, &chunk)
			if err != nil {
				return d, errorf(DecryptionFailed, op, "reading encrypted content chunks: %v", err)
			}
			buf.Write(chunk)
		}
		ct = buf.Bytes()
	}
	bs := block.BlockSize()
	if len(ct) == 0 || len(ct)%bs != 0 {
		return d, errorf(DecryptionFailed, op, "ciphertext length %d is not a positive multiple of the %s block size %d", len(ct), c, bs)
	}
	plain := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, ct)
	pad := int(plain[len(plain)-1])
	bad := pad == 0 || pad > bs
	if !bad {
		for _, p := range plain[len(plain)-pad:] {
			bad = bad || int(p) != pad
		}
	}
	if bad {
		return d, errorf(DecryptionFailed, op, "bad padding after decrypting with our key %s: the content key was not encrypted for this key pair, or the message is corrupt", certName(kp.Cert))
	}
	return decrypted{plain: plain[:len(plain)-pad], cert: kp.Cert, cipher: c}, nil
}

// recipientMatcher describes a RecipientIdentifier and returns a predicate
// matching our certificates against it.
func recipientMatcher(rid asn1.RawValue) (string, func(*x509.Certificate) bool) {
	if rid.Class == asn1.ClassContextSpecific && rid.Tag == 0 {
		ski := rid.Bytes
		return fmt.Sprintf("subjectKeyIdentifier=%X", ski), func(c *x509.Certificate) bool {
			return len(c.SubjectKeyId) > 0 && bytes.Equal(c.SubjectKeyId, ski)
		}
	}
	var ias issuerAndSerialNumber
	if _, err := asn1.Unmarshal(rid.FullBytes, &ias); err != nil || ias.Serial == nil {
		return "(unparsable recipient id)", func(*x509.Certificate) bool { return false }
	}
	return issuerSerial(ias.Issuer.FullBytes, ias.Serial), func(c *x509.Certificate) bool {
		return c.SerialNumber.Cmp(ias.Serial) == 0 && bytes.Equal(c.RawIssuer, ias.Issuer.FullBytes)
	}
}

func issuerSerial(rawIssuer []byte, serial *big.Int) string {
	var rdn pkix.RDNSequence
	issuer := "(unparsable)"
	if _, err := asn1.Unmarshal(rawIssuer, &rdn); err == nil {
		var n pkix.Name
		n.FillFromRDNSequence(&rdn)
		issuer = n.String()
	}
	s := "(none)"
	if serial != nil {
		s = serial.Text(16)
	}
	return fmt.Sprintf("issuer=%q serial=%s", issuer, s)
}

// certName identifies a certificate in error messages.
func certName(c *x509.Certificate) string {
	if c == nil {
		return "(no certificate)"
	}
	return fmt.Sprintf("subject=%q %s notAfter=%s", c.Subject.String(),
		issuerSerial(c.RawIssuer, c.SerialNumber), c.NotAfter.UTC().Format("2006-01-02"))
}

func certList(certs []*x509.Certificate) string {
	var s []string
	for _, c := range certs {
		s = append(s, certName(c))
	}
	return strings.Join(s, "; ")
}

func keyList(keys []KeyPair) string {
	var s []string
	for _, k := range keys {
		s = append(s, certName(k.Cert))
	}
	return strings.Join(s, "; ")
}
