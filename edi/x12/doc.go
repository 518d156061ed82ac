// Package x12 reads, validates and writes ANSI ASC X12 EDI: the purchase
// orders (850), warehouse shipping orders (940), ship notices (856) and
// acknowledgements (997, 999, TA1) that retailers and 3PLs exchange.
//
// # How an X12 file is built
//
// An X12 stream is a sequence of segments. A segment is an identifier
// (2 or 3 letters and digits, such as BEG or N1) followed by data elements,
// each introduced by the element separator, and closed by the segment
// terminator:
//
//	N1*ST*ACME STORE 12*9*0012345678901~
//
// Here N1 is the segment ID, N101 is "ST", N102 "ACME STORE 12" and so on:
// elements are numbered from 1, and "N102" is the reference designator a
// trading partner's implementation guide uses. An element may be a
// composite of components, separated by the component separator (SLN05
// "LB:1"), and, from version 00402 on, repeated with the repetition
// separator ("A^B"). Empty elements keep their place ("A**C"); trailing
// empty elements are left out.
//
// The separators are not fixed: each interchange declares its own in its
// first segment, the ISA, which has a fixed layout of 16 elements padded to
// fixed widths, 106 bytes in all:
//
//	ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *240115*0930*^*00501*000000001*0*P*:~
//	   ^                                                                              ^                 ^^
//	   element separator (byte 4)                                  repetition (ISA11) component (ISA16), terminator
//
// Segments nest in three envelopes, each a header and a trailer that
// repeats its control number and counts what it holds:
//
//	ISA ... IEA   interchange: sender, receiver, date, version, control number (ISA13 = IEA02);
//	              IEA01 counts its functional groups
//	GS  ... GE    functional group: one kind of document (GS01 "PO" for 850s) in one version;
//	              GE01 counts its sets, GS06 = GE02
//	ST  ... SE    transaction set: one document; SE01 counts its segments from ST to SE,
//	              ST02 = SE02
//
// Problems are acknowledged at the level they affect: a TA1 for the
// interchange (TA105 note codes), a 997 or 999 per functional group with
// one AK2/AK5 per transaction set (AK502 codes) and AK9 for the group
// (AK905 codes), AK3/AK4 for segments and elements.
//
// # What this package offers
//
// Reader tokenises a stream of any size in memory bounded by its longest
// segment: delimiters from every ISA (several interchanges per stream,
// one-byte or multi-byte UTF-8 terminators, control characters), BOMs,
// line breaks and indentation skipped, each segment located by line, byte
// offset and position in its transaction set. It allocates nothing per
// segment: the Segment it returns is reused by the next call.
//
// Decoder walks the envelopes and validates them (fixed ISA widths and
// values, control numbers, counts, missing trailers), attaching each
// problem to the interchange, group or set it condemns with its TA1, AK9 or
// AK5 code. A bad set never hides the good sets after it. Validate returns
// every problem of a stream at once.
//
// Transaction set specifications are data (see ParseSpecs for the format):
// segment order, loops, mandatory segments and maximum use, element types
// (AN, ID, N0-N9, R, DT, TM), lengths, code lists, composites and syntax
// notes, repeating elements, hierarchical loops (the 856's HL). A
// version's tables can start from an earlier version's. StandardSpecs
// holds the 810, 846, 850, 855, 856, 940, 943, 944, 945 and 997 of version
// 004010 and the 850, 855, 856, 940, 945, 997 and 999 of 005010; with WithSpecs, the Decoder checks each set against its
// specification and reports AK304 and AK403 codes, and the loop of the
// segment, with messages such as
//
//	line 27, W01 (segment 12 of set 0003): W0101 "4x" is not numeric (R)
//
// FunctionalAck turns a group's results into a 997 or a 999 (IK3/IK4/IK5
// carry the same codes), Interchange.TA1 an interchange's into a TA1, and
// Acknowledge writes every acknowledgement a stream calls for, 997 or 999
// per partner (AckConfig.Kind), accepted groups included or not.
//
// In the other direction, ParseFunctionalAck reads a 997 or 999 a partner
// sent, and AckMatcher matches it to the groups and sets we sent: accepted,
// accepted with errors, partially accepted or rejected, and the sets the
// acknowledgement does not mention.
//
// Writer writes segments with a partner's delimiters and line endings,
// builds the ISA from an Interchange, computes SE01, GE01 and IEA01, and
// refuses data that contains a delimiter (X12 has no escape character).
//
// Errors are *SyntaxError (bytes that cannot be read as segments) or
// *ValidationError (segments that break a rule); both carry their location
// and acknowledgement Code and unwrap to a sentinel such as
// ErrSegmentCount, for errors.Is.
//
// The package knows nothing of the hub: it works on io.Reader and io.Writer
// and does not log.
package x12
