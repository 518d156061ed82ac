package x12

import (
	"cmp"
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors, one per rule. Every error the package reports is a
// *SyntaxError or a *ValidationError that unwraps to one of these, so callers
// map problems to outcomes with errors.Is, never by matching text.
var (
	// Reading (syntax) errors: the bytes cannot be cut into segments.

	// ErrNoInterchange: the stream has data before its first ISA, or no ISA
	// at all. The reader skips to the next "ISA" and goes on.
	ErrNoInterchange = errors.New("x12: not an X12 interchange (no ISA segment)")
	// ErrTrailingData: data after an IEA is not the ISA of another
	// interchange. The reader skips to the next "ISA" and goes on.
	ErrTrailingData = errors.New("x12: data after the interchange trailer (IEA)")
	// ErrInvalidISA: an ISA from which the delimiters cannot be read (too
	// short, truncated, or a delimiter that is alphanumeric or used twice).
	// The whole interchange is skipped: the reader resumes at the next "ISA".
	ErrInvalidISA = errors.New("x12: cannot read the delimiters from the ISA segment")
	// ErrSegmentTooLong: a segment longer than the reader's MaxSegmentSize.
	// The reader skips to the segment's terminator and goes on.
	ErrSegmentTooLong = errors.New("x12: segment too long")
	// ErrEmptySegment: a segment terminator directly after another one.
	ErrEmptySegment = errors.New("x12: empty segment")

	// Envelope errors: ISA/IEA, GS/GE, ST/SE do not agree.

	// ErrControlNumberMismatch: a trailer's control number (IEA02, GE02,
	// SE02) differs from its header's (ISA13, GS06, ST02).
	ErrControlNumberMismatch = errors.New("x12: trailer control number does not match the header")
	// ErrGroupCount: IEA01 differs from the number of functional groups.
	ErrGroupCount = errors.New("x12: number of included functional groups does not match")
	// ErrSetCount: GE01 differs from the number of transaction sets.
	ErrSetCount = errors.New("x12: number of included transaction sets does not match")
	// ErrSegmentCount: SE01 differs from the number of segments ST through SE.
	ErrSegmentCount = errors.New("x12: number of included segments does not match")
	// ErrMissingTrailer: an interchange, group or set ends without its
	// IEA, GE or SE.
	ErrMissingTrailer = errors.New("x12: trailer segment missing")
	// ErrUnexpectedSegment: a segment where the envelope structure does not
	// allow it (a GE without GS, a segment between sets, an ST outside a
	// group...).
	ErrUnexpectedSegment = errors.New("x12: segment not allowed here by the envelope structure")
	// ErrDuplicateControlNumber: two transaction sets of one group share ST02.
	ErrDuplicateControlNumber = errors.New("x12: transaction set control number not unique in the group")
	// ErrSegmentID: a segment identifier that is not 2 or 3 upper-case
	// letters and digits.
	ErrSegmentID = errors.New("x12: invalid segment identifier")

	// Segment errors, from a transaction set's specification (AK304 codes).

	// ErrSegmentMissing: a mandatory segment (or loop) is absent (AK304 3).
	ErrSegmentMissing = errors.New("x12: mandatory segment missing")
	// ErrLoopMaxUse: a loop repeats more than its specification allows (AK304 4).
	ErrLoopMaxUse = errors.New("x12: loop occurs over maximum times")
	// ErrSegmentMaxUse: a segment repeats more than allowed (AK304 5).
	ErrSegmentMaxUse = errors.New("x12: segment exceeds maximum use")
	// ErrSegmentNotInSet: a segment the set's specification does not have (AK304 6).
	ErrSegmentNotInSet = errors.New("x12: segment not in defined transaction set")
	// ErrSegmentOrder: a segment of the set, out of its place (AK304 7).
	ErrSegmentOrder = errors.New("x12: segment not in proper sequence")
	// ErrHierarchy: a hierarchical loop (the 856's HL) is broken: an ID
	// used twice, a parent that is not an earlier level, a level the set
	// does not allow (AK403 7).
	ErrHierarchy = errors.New("x12: hierarchical structure broken")

	// Element errors (also used for the ISA's fixed-width fields).

	// ErrConditionalMissing: an element required by a syntax note (P, R, C,
	// L) of the segment is absent (AK403 2).
	ErrConditionalMissing = errors.New("x12: conditional required element missing")
	// ErrTooManyElements: more elements than the segment has (AK403 3).
	ErrTooManyElements = errors.New("x12: too many data elements")
	// ErrInvalidCharacter: a control character in an element (AK403 6).
	ErrInvalidCharacter = errors.New("x12: invalid character in element")
	// ErrExclusion: two elements that exclude each other (E note) both
	// present (AK403 10).
	ErrExclusion = errors.New("x12: exclusion condition violated")
	// ErrTooManyRepetitions: an element repeated more than allowed (AK403 12).
	ErrTooManyRepetitions = errors.New("x12: too many repetitions")
	// ErrTooManyComponents: a composite with more components than defined,
	// or a simple element holding the component separator (AK403 13).
	ErrTooManyComponents = errors.New("x12: too many components")

	// ErrMissingElement: a mandatory element is empty or absent.
	ErrMissingElement = errors.New("x12: mandatory element missing")
	// ErrTooShort: an element is shorter than its minimum length.
	ErrTooShort = errors.New("x12: element too short")
	// ErrTooLong: an element is longer than its maximum length.
	ErrTooLong = errors.New("x12: element too long")
	// ErrNotNumeric: an element of type N0-N9 or R is not a number.
	ErrNotNumeric = errors.New("x12: element not numeric")
	// ErrInvalidCode: an element's value is not in its code list.
	ErrInvalidCode = errors.New("x12: invalid code value")
	// ErrInvalidDate: an element of type DT is not a calendar date.
	ErrInvalidDate = errors.New("x12: invalid date")
	// ErrInvalidTime: an element of type TM is not a time of day.
	ErrInvalidTime = errors.New("x12: invalid time")
)

// Code is an X12 acknowledgement code: the data element of the
// acknowledgement that carries it and its value, e.g. {"TA105", "001"} or
// {"AK502", "3"}. Interchange problems carry a TA1 note code (TA105),
// transaction set problems an AK502 code, functional group problems an AK905
// code, segment problems an AK304 code and element problems an AK403 code.
// The 999's IK304, IK403 and IK502 use the same values for these problems.
type Code struct {
	Element string
	Value   string
}

// IsZero reports whether c is the zero Code (no acknowledgement code).
func (c Code) IsZero() bool { return c.Element == "" }

// String returns e.g. "TA105 001", or "" for the zero Code.
func (c Code) String() string {
	if c.IsZero() {
		return ""
	}
	return c.Element + " " + c.Value
}

// Description returns the code's name from the X12 code list, e.g.
// "Transaction Set Control Number in Header and Trailer Do Not Match", or ""
// when the package does not know it.
func (c Code) Description() string {
	switch c.Element {
	case "TA105":
		return ta1Notes[c.Value]
	case "AK502":
		return ak5Codes[c.Value]
	case "IK502":
		return cmp.Or(ak5Codes[c.Value], ik5Codes[c.Value])
	case "AK905":
		return ak9Codes[c.Value]
	case "AK304":
		return ak3Codes[c.Value]
	case "IK304":
		return cmp.Or(ak3Codes[c.Value], ik3Codes[c.Value])
	case "AK403":
		return ak4Codes[c.Value]
	case "IK403":
		return cmp.Or(ak4Codes[c.Value], ik4Codes[c.Value])
	case "AK501", "IK501", "AK901":
		return ackStatusCodes[c.Value]
	}
	return ""
}

// ackStatusCodes are code lists 717 (AK501, IK501) and 715 (AK901, which
// adds "P").
var ackStatusCodes = map[string]string{
	"A": "Accepted",
	"E": "Accepted But Errors Were Noted",
	"M": "Rejected, Message Authentication Code (MAC) Failed",
	"P": "Partially Accepted, At Least One Transaction Set Was Rejected",
	"R": "Rejected",
	"W": "Rejected, Assurance Failed Validity Tests",
	"X": "Rejected, Content After Decryption Could Not Be Analyzed",
}

// ik5Codes, ik3Codes and ik4Codes are the implementation codes that code
// lists 618 (IK502), 620 (IK304) and 621 (IK403) add to those of the 997.
var ik5Codes = map[string]string{
	"I5": "Implementation One or More Segments in Error",
	"I6": "Implementation Convention Not Supported",
}

var ik3Codes = map[string]string{
	"I4": "Implementation \"Not Used\" Segment Present",
	"I6": "Implementation Dependent Segment Missing",
	"I7": "Implementation Loop Occurs Under Minimum Times",
	"I8": "Implementation Segment Below Minimum Use",
	"I9": "Implementation Dependent \"Not Used\" Segment Present",
}

var ik4Codes = map[string]string{
	"I10": "Implementation \"Not Used\" Data Element Present",
	"I11": "Implementation Too Few Repetitions",
	"I12": "Implementation Pattern Match Failure",
	"I13": "Implementation Dependent \"Not Used\" Data Element Present",
	"I6":  "Code Value Not Used in Implementation",
	"I9":  "Implementation Dependent Data Element Missing",
}

func ta1Code(v string) Code { return Code{"TA105", v} }
func ak5Code(v string) Code { return Code{"AK502", v} }
func ak9Code(v string) Code { return Code{"AK905", v} }
func ak3Code(v string) Code { return Code{"AK304", v} }
func ak4Code(v string) Code { return Code{"AK403", v} }

// ta1Notes is code list I18 (Interchange Note Code, TA105).
var ta1Notes = map[string]string{
	"000": "No error",
	"001": "The Interchange Control Number in the Header and Trailer Do Not Match. The Value From the Header is Used in the Acknowledgment.",
	"002": "This Standard as Noted in the Control Standards Identifier is Not Supported.",
	"003": "This Version of the Controls is Not Supported",
	"004": "The Segment Terminator is Invalid",
	"005": "Invalid Interchange ID Qualifier for Sender",
	"006": "Invalid Interchange Sender ID",
	"007": "Invalid Interchange ID Qualifier for Receiver",
	"008": "Invalid Interchange Receiver ID",
	"009": "Unknown Interchange Receiver ID",
	"010": "Invalid Authorization Information Qualifier Value",
	"011": "Invalid Authorization Information Value",
	"012": "Invalid Security Information Qualifier Value",
	"013": "Invalid Security Information Value",
	"014": "Invalid Interchange Date Value",
	"015": "Invalid Interchange Time Value",
	"016": "Invalid Interchange Standards Identifier Value",
	"017": "Invalid Interchange Version ID Value",
	"018": "Invalid Interchange Control Number Value",
	"019": "Invalid Acknowledgment Requested Value",
	"020": "Invalid Test Indicator Value",
	"021": "Invalid Number of Included Groups Value",
	"022": "Invalid Control Structure",
	"023": "Improper (Premature) End-of-File (Transmission)",
	"024": "Invalid Interchange Content (e.g., Invalid GS Segment)",
	"025": "Duplicate Interchange Control Number",
	"026": "Invalid Data Element Separator",
	"027": "Invalid Component Element Separator",
}

// ak5Codes is code list 718 (Transaction Set Syntax Error Code, AK502).
var ak5Codes = map[string]string{
	"1":  "Transaction Set Not Supported",
	"2":  "Transaction Set Trailer Missing",
	"3":  "Transaction Set Control Number in Header and Trailer Do Not Match",
	"4":  "Number of Included Segments Does Not Match Actual Count",
	"5":  "One or More Segments in Error",
	"6":  "Missing or Invalid Transaction Set Identifier",
	"7":  "Missing or Invalid Transaction Set Control Number",
	"23": "Transaction Set Control Number Not Unique within the Functional Group",
}

// ak9Codes is code list 716 (Functional Group Syntax Error Code, AK905).
var ak9Codes = map[string]string{
	"1": "Functional Group Not Supported",
	"2": "Functional Group Version Not Supported",
	"3": "Functional Group Trailer Missing",
	"4": "Group Control Number in the Functional Group Header and Trailer Do Not Agree",
	"5": "Number of Included Transaction Sets Does Not Match Actual Count",
	"6": "Group Control Number Violates Syntax",
}

// ak3Codes is code list 720 (Segment Syntax Error Code, AK304).
var ak3Codes = map[string]string{
	"1": "Unrecognized segment ID",
	"2": "Unexpected segment",
	"3": "Mandatory segment missing",
	"4": "Loop Occurs Over Maximum Times",
	"5": "Segment Exceeds Maximum Use",
	"6": "Segment Not in Defined Transaction Set",
	"7": "Segment Not in Proper Sequence",
	"8": "Segment Has Data Element Errors",
}

// ak4Codes is code list 723 (Data Element Syntax Error Code, AK403).
var ak4Codes = map[string]string{
	"1":  "Mandatory data element missing",
	"2":  "Conditional required data element missing",
	"3":  "Too many data elements",
	"4":  "Data element too short",
	"5":  "Data element too long",
	"6":  "Invalid character in data element",
	"7":  "Invalid code value",
	"8":  "Invalid Date",
	"9":  "Invalid Time",
	"10": "Exclusion Condition Violated",
	"12": "Too Many Repetitions",
	"13": "Too Many Components",
}

// SyntaxError reports bytes that cannot be read as X12 segments: no ISA,
// an unreadable ISA, a segment over the size limit, data after the last IEA.
// After a SyntaxError the Reader has already skipped the bad bytes and
// the caller may call Next again.
type SyntaxError struct {
	Line   int   // 1-based line where the bad bytes start
	Offset int64 // byte offset in the stream where the bad bytes start
	// SegmentID is the start of the bad segment when known (up to its first
	// element separator, at most 3 bytes).
	SegmentID string
	// Position is the bad segment's position in its transaction set (ST is
	// 1), 0 outside a set or when unknown.
	Position int
	Detail   string // what is wrong, for humans
	Code     Code   // acknowledgement code, when one applies
	Err      error  // the sentinel (ErrSegmentTooLong, ...)
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d (offset %d): %s", e.Line, e.Offset, e.Detail)
}

func (e *SyntaxError) Unwrap() error { return e.Err }

// ValidationError reports a segment that was read but breaks a rule of the
// envelope or of the transaction set's specification. It locates the
// problem the way a trading partner needs it: line, byte offset, segment ID
// and position in its set, element and component position, the bad value,
// and the acknowledgement code. Error reads like
//
//	line 40, SE (segment 31 of set 0003): SE01 says 30 segments, the set has 31
type ValidationError struct {
	Line      int    // 1-based line of the segment
	Offset    int64  // byte offset of the segment in the stream
	SegmentID string // e.g. "SE"; "" when the problem is at the end of the stream
	// Position is the segment's position in its transaction set, ST being 1;
	// 0 for envelope segments.
	Position int
	// SetControlNumber is ST02 of the set holding the segment, "" outside sets.
	SetControlNumber string
	Element          int // 1-based element position (SE01 is 1), 0 for the whole segment
	Component        int // 1-based component position, 0 if not a component
	// ElementRef is the element's number in the X12 dictionary, e.g. "353"
	// (AK402), when a specification gives it.
	ElementRef string
	// Loop identifies the specification loop holding the segment (AK303,
	// IK303): its first segment's ID, e.g. "N1"; "" at the set's top level,
	// for envelope problems and for a segment out of place.
	Loop   string
	Value  string // the offending value, if any
	Detail string // what is wrong, for humans, without the location
	Code   Code   // acknowledgement code (TA105, AK502, AK905, AK304, AK403)
	Err    error  // the sentinel (ErrSegmentCount, ...)
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "line %d", e.Line)
	if e.SegmentID != "" {
		b.WriteString(", ")
		b.WriteString(e.SegmentID)
		if e.Position > 0 && e.SetControlNumber != "" {
			fmt.Fprintf(&b, " (segment %d of set %s)", e.Position, e.SetControlNumber)
		}
	}
	b.WriteString(": ")
	if e.Element > 0 {
		fmt.Fprintf(&b, "%s%02d", e.SegmentID, e.Element)
		if e.Component > 0 {
			fmt.Fprintf(&b, "-%d", e.Component)
		}
		b.WriteByte(' ')
	}
	b.WriteString(e.Detail)
	return b.String()
}

func (e *ValidationError) Unwrap() error { return e.Err }

// ErrorList is every problem found in a stream, in the order of their
// offsets. errors.Is and errors.As look through it.
type ErrorList []error

func (l ErrorList) Error() string {
	var b strings.Builder
	for i, err := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(err.Error())
	}
	return b.String()
}

func (l ErrorList) Unwrap() []error { return l }

// quote shows a value the way the error messages print it: Go-quoted, cut
// after 40 bytes.
func quote(b []byte) string {
	if len(b) > 40 {
		return fmt.Sprintf("%q...", b[:40])
	}
	return fmt.Sprintf("%q", b)
}
