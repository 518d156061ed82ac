package x12

import "fmt"

// isaField describes one fixed-width ISA field and the TA1 note code for a
// bad value.
type isaField struct {
	width int
	ta1   string
}

// isaFields are ISA01 to ISA16. A standard ISA is 106 bytes: "ISA", 16
// element separators, these widths (105 in all) and the terminator.
var isaFields = [16]isaField{
	{2, "010"},  // ISA01 Authorization Information Qualifier
	{10, "011"}, // ISA02 Authorization Information
	{2, "012"},  // ISA03 Security Information Qualifier
	{10, "013"}, // ISA04 Security Information
	{2, "005"},  // ISA05 Interchange ID Qualifier (sender)
	{15, "006"}, // ISA06 Interchange Sender ID
	{2, "007"},  // ISA07 Interchange ID Qualifier (receiver)
	{15, "008"}, // ISA08 Interchange Receiver ID
	{6, "014"},  // ISA09 Interchange Date
	{4, "015"},  // ISA10 Interchange Time
	{1, "016"},  // ISA11 Standards Identifier / Repetition Separator
	{5, "017"},  // ISA12 Interchange Control Version Number
	{9, "018"},  // ISA13 Interchange Control Number
	{1, "019"},  // ISA14 Acknowledgment Requested
	{1, "020"},  // ISA15 Interchange Usage Indicator
	{1, "027"},  // ISA16 Component Element Separator
}

// checkISA validates the ISA's fixed widths and the values the brief of
// every interchange depends on: date, time, version, control number,
// acknowledgment request and usage. Errors carry the TA1 note code of the
// field; Line and Offset are left to the caller.
func checkISA(s *Segment) []*ValidationError {
	var errs []*ValidationError
	add := func(i int, v []byte, sentinel error, format string, args ...any) {
		errs = append(errs, &ValidationError{
			SegmentID: "ISA", Element: i, Value: string(v),
			Detail: fmt.Sprintf(format, args...), Code: ta1Code(isaFields[i-1].ta1), Err: sentinel,
		})
	}
	for i, f := range isaFields {
		n := i + 1
		v := s.Element(n).b
		switch {
		case len(v) < f.width:
			pad := "spaces after it"
			if n == 13 {
				pad = "zeros before it"
			}
			add(n, v, ErrTooShort, "%s is %d bytes long, it must be exactly %d (pad with %s)", quote(v), len(v), f.width, pad)
			continue
		case len(v) > f.width:
			add(n, v, ErrTooLong, "%s is %d bytes long, it must be exactly %d%s", quote(v), len(v), f.width, nonASCIINote(v))
			continue
		}
		switch n {
		case 9:
			if !validYYMMDD(v) {
				add(n, v, ErrInvalidDate, "%s is not a date (YYMMDD)", quote(v))
			}
		case 10:
			if !validHHMM(v) {
				add(n, v, ErrInvalidTime, "%s is not a time (HHMM)", quote(v))
			}
		case 12:
			if !isDigits(string(v)) {
				add(n, v, ErrInvalidCode, "%s is not an interchange control version number (5 digits, e.g. 00401)", quote(v))
			}
		case 13:
			if !isDigits(string(v)) {
				add(n, v, ErrNotNumeric, "%s is not an interchange control number (9 digits)", quote(v))
			}
		case 14:
			if v[0] != '0' && v[0] != '1' {
				add(n, v, ErrInvalidCode, "%s is not an acknowledgment request (0 or 1)", quote(v))
			}
		case 15:
			if v[0] != 'P' && v[0] != 'T' && v[0] != 'I' {
				add(n, v, ErrInvalidCode, "%s is not a usage indicator (P, T or I)", quote(v))
			}
		}
	}
	return errs
}

// nonASCIINote explains why a value that looks the right length is not.
func nonASCIINote(b []byte) string {
	for _, c := range b {
		if c >= 0x80 {
			return " (it holds non-ASCII characters, of more than one byte each in UTF-8)"
		}
	}
	return ""
}

func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, len(b) > 0
}

// validYYMMDD checks a 6-digit date. The century does not matter for the
// leap-year rule over 2000-2099, nor over 1901-1999.
func validYYMMDD(b []byte) bool {
	if len(b) != 6 {
		return false
	}
	yy, ok1 := digits(b[0:2])
	mm, ok2 := digits(b[2:4])
	dd, ok3 := digits(b[4:6])
	return ok1 && ok2 && ok3 && validDate(2000+yy, mm, dd)
}

// validCCYYMMDD checks an 8-digit date.
func validCCYYMMDD(b []byte) bool {
	if len(b) != 8 {
		return false
	}
	y, ok1 := digits(b[0:4])
	mm, ok2 := digits(b[4:6])
	dd, ok3 := digits(b[6:8])
	return ok1 && ok2 && ok3 && validDate(y, mm, dd)
}

func validDate(y, m, d int) bool {
	if m < 1 || m > 12 || d < 1 {
		return false
	}
	days := [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m]
	if m == 2 && (y%4 == 0 && y%100 != 0 || y%400 == 0) {
		days = 29
	}
	return d <= days
}

// validHHMM checks a 4-digit time of day.
func validHHMM(b []byte) bool {
	if len(b) != 4 {
		return false
	}
	hh, ok1 := digits(b[0:2])
	mm, ok2 := digits(b[2:4])
	return ok1 && ok2 && hh < 24 && mm < 60
}
