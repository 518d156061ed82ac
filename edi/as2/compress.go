package as2

import (
	"bytes"
	"compress/zlib"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"

	"github.com/smallstep/pkcs7"
)

// CompressedData (RFC 3274 / RFC 5652), which pkcs7 does not implement:
//
//	CompressedData ::= SEQUENCE {
//	  version CMSVersion,                      -- always 0
//	  compressionAlgorithm AlgorithmIdentifier, -- id-alg-zlibCompress, no parameters
//	  encapContentInfo EncapsulatedContentInfo }
//
//	EncapsulatedContentInfo ::= SEQUENCE {
//	  eContentType ContentType,                -- id-data
//	  eContent [0] EXPLICIT OCTET STRING OPTIONAL }
type compressedData struct {
	Version              int
	CompressionAlgorithm pkix.AlgorithmIdentifier
	EncapContentInfo     encapContentInfo
}

type encapContentInfo struct {
	EContentType asn1.ObjectIdentifier
	EContent     asn1.RawValue `asn1:"explicit,optional,tag:0"`
}

// compress returns a DER ContentInfo of type id-ct-compressedData holding
// content deflated with zlib.
func compress(content []byte) ([]byte, error) {
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	if _, err := w.Write(content); err != nil {
		return nil, fmt.Errorf("compressing: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("compressing: %w", err)
	}
	octets, err := asn1.Marshal(z.Bytes())
	if err != nil {
		return nil, err
	}
	cd, err := asn1.Marshal(compressedData{
		CompressionAlgorithm: pkix.AlgorithmIdentifier{Algorithm: oidZlibCompress},
		EncapContentInfo: encapContentInfo{
			EContentType: pkcs7.OIDData,
			EContent:     asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: octets},
		},
	})
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(contentInfo{
		ContentType: oidCompressedData,
		Content:     asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: cd},
	})
}

// decompress inflates a BER or DER id-ct-compressedData ContentInfo, failing
// with ErrTooLarge once the output would exceed limit bytes.
func decompress(b []byte, limit int64) (out []byte, err error) {
	const op = "decompressing"
	defer guard(op, &err)
	ci, err := parseContentInfo(b)
	if err != nil {
		return nil, newError(DecompressionFailed, op, err)
	}
	if !ci.ContentType.Equal(oidCompressedData) {
		return nil, errorf(DecompressionFailed, op, "content type is %s, want id-ct-compressedData %s", ci.ContentType, oidCompressedData)
	}
	var cd compressedData
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &cd); err != nil {
		return nil, errorf(DecompressionFailed, op, "parsing CompressedData: %v", err)
	}
	if !cd.CompressionAlgorithm.Algorithm.Equal(oidZlibCompress) {
		return nil, errorf(DecompressionFailed, op, "compression algorithm %s; only zlib (%s) is defined for AS2", cd.CompressionAlgorithm.Algorithm, oidZlibCompress)
	}
	var z []byte
	if _, err := asn1.Unmarshal(cd.EncapContentInfo.EContent.Bytes, &z); err != nil {
		return nil, errorf(DecompressionFailed, op, "reading compressed content: %v", err)
	}
	r, err := zlib.NewReader(bytes.NewReader(z))
	if err != nil {
		return nil, errorf(DecompressionFailed, op, "opening zlib stream: %v", err)
	}
	out, err = io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, errorf(DecompressionFailed, op, "inflating: %v", err)
	}
	if int64(len(out)) > limit {
		return nil, newError(DecompressionFailed, op,
			fmt.Errorf("%w: inflated content exceeds %d bytes (Config.MaxDecompressedSize); a decompression bomb, or raise the limit", ErrTooLarge, limit))
	}
	if err := r.Close(); err != nil && !errors.Is(err, io.EOF) {
		return nil, errorf(DecompressionFailed, op, "closing zlib stream: %v", err)
	}
	return out, nil
}
