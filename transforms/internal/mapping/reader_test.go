package mapping

import (
	"encoding/json"
	"errors"
	"testing"
)

// TestDecodeObjectTrailing pins what each Trailing refuses after the
// object: Magento's mapping refuses only a second value, Shopify's any
// text but "]" or "}".
func TestDecodeObjectTrailing(t *testing.T) {
	for _, tc := range []struct {
		body            string
		valueOK, textOK bool
	}{
		{`{}`, true, true},
		{"{} \n", true, true},
		{`{} 1`, false, false},
		{`{} {}`, false, false},
		{`{} x`, true, false},
		{`{} ,`, true, false},
		{`{} ]`, true, true},
	} {
		_, errValue := DecodeObject([]byte(tc.body), RefuseTrailingValue)
		_, errText := DecodeObject([]byte(tc.body), RefuseTrailingText)
		if (errValue == nil) != tc.valueOK || (errText == nil) != tc.textOK {
			t.Errorf("%q: RefuseTrailingValue %v, RefuseTrailingText %v", tc.body, errValue, errText)
		}
	}
	if _, err := DecodeObject([]byte(`[1]`), RefuseTrailingText); err == nil || err.Error() != "not a JSON object" {
		t.Errorf("array: %v", err)
	}
}

// TestStrNumbers: a number is text only with NumbersAsText.
func TestStrNumbers(t *testing.T) {
	invalid := errors.New("invalid")
	o := Object{"code": json.Number("42")}
	r := Reader{Invalid: invalid, NumbersAsText: true}
	if got := r.Str(o, "", "code"); got != "42" || len(r.Errs) != 0 {
		t.Errorf("NumbersAsText: %q %v", got, r.Err())
	}
	r = Reader{Invalid: invalid}
	got := r.Str(o, "x", "code")
	const want = "x.code: must be a string, not a number, got 42"
	if err := r.Err(); got != "" || err == nil || err.Error() != want || !errors.Is(err, invalid) {
		t.Errorf("strict: %q %v, want error %q", got, err, want)
	}
}
