package carriers

import (
	"strings"
	"testing"
)

func TestCountryCode(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"alpha-2", "US", "US"},
		{"lower case", "us", "US"},
		{"spaces", "  ca ", "CA"},
		{"alpha-3", "usa", "US"},
		{"name", "United States", "US"},
		{"long name", "United States of America", "US"},
		{"Canada", "Canada", "CA"},
		{"Puerto Rico", "Puerto Rico", "PR"},
		{"PRI", "PRI", "PR"},
		{"UK", "uk", "GB"},
		{"United Kingdom", "United Kingdom", "GB"},
		{"Germany", "DEU", "DE"},
		{"Netherlands", "NLD", "NL"},
		{"Spain", "ESP", "ES"},
		{"unknown", "Narnia", "NARNIA"},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := CountryCode(tc.in); got != tc.want {
				t.Errorf("CountryCode(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestRegionCode(t *testing.T) {
	for _, tc := range []struct{ name, country, in, want string }{
		{"state name", "US", "California", "CA"},
		{"lower case code", "US", "ca", "CA"},
		{"ISO 3166-2", "US", "US-CA", "CA"},
		{"extra spaces", "US", "  new   york ", "NY"},
		{"dots", "US", "N.Y.", "NY"},
		{"District of Columbia", "US", "District of Columbia", "DC"},
		{"territory as a state", "US", "Guam", "GU"},
		{"territory as a country", "PR", "Puerto Rico", "PR"},
		{"territory lower case", "FM", "fm", "FM"},
		{"territory ISO 3166-2", "PR", "US-PR", "PR"},
		{"American Samoa", "AS", "American Samoa", "AS"},
		{"Northern Mariana Islands", "MP", "northern mariana islands", "MP"},
		{"province", "CA", "Ontario", "ON"},
		{"province accented", "CA", "Québec", "QC"},
		{"province unaccented", "CA", "quebec", "QC"},
		{"province ISO 3166-2", "CA", "CA-BC", "BC"},
		{"Newfoundland", "CA", "Newfoundland", "NL"},
		{"Newfoundland and Labrador", "CA", "Newfoundland and Labrador", "NL"},
		{"unknown in the US", "US", "  atlantis  city ", "ATLANTIS CITY"},
		{"empty", "US", "", ""},
		{"other country as given", "GB", " Greater London ", "Greater London"},
		{"other country not looked up", "FR", "Georgia", "Georgia"},
		{"no country", "", "California", "California"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := RegionCode(tc.country, tc.in); got != tc.want {
				t.Errorf("RegionCode(%q, %q) = %q, want %q", tc.country, tc.in, got, tc.want)
			}
		})
	}
}

// Every name maps to a two-letter code, and every code stands for itself.
func TestRegionNames(t *testing.T) {
	for name, code := range regionNames {
		if len(code) != 2 || strings.ToUpper(code) != code {
			t.Errorf("%s: code %q is not two upper-case letters", name, code)
		}
		if name != strings.ToUpper(name) {
			t.Errorf("%s: name is not upper case", name)
		}
		if _, clash := regionNames[code]; clash {
			t.Errorf("%s: code %q is also a name", name, code)
		}
	}
}

func TestDigits(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"phone", "+1 (614) 555-0100", "16145550100"},
		{"ZIP+4", "10001-2170", "100012170"},
		{"letters", "k1a 0b1", "101"},
		{"non-ASCII digits dropped", "١٢٣4", "4"},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Digits(tc.in); got != tc.want {
				t.Errorf("Digits(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestPhoneDigits(t *testing.T) {
	for _, tc := range []struct{ name, country, in, want string }{
		{"US with country code", "US", "+1 (415) 555-0100", "4155550100"},
		{"US without", "US", "415.555.0100", "4155550100"},
		{"Canada", "CA", "1-514-555-0100", "5145550100"},
		{"Puerto Rico", "PR", "1 787 555 0100", "7875550100"},
		{"US 10 digits starting with 1 kept", "US", "1415555010", "1415555010"},
		{"US 12 digits kept", "US", "11415555010 0", "114155550100"},
		{"other country keeps its 1", "GB", "1 234 567 8901", "12345678901"},
		{"UK", "GB", "+44 20 7946 0958", "442079460958"},
		{"empty", "US", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := PhoneDigits(tc.country, tc.in); got != tc.want {
				t.Errorf("PhoneDigits(%q, %q) = %q, want %q", tc.country, tc.in, got, tc.want)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"short", "abc", 5, "abc"},
		{"exact", "abcde", 5, "abcde"},
		{"cut", "abcdef", 5, "abcde"},
		{"runes, not bytes", "ééééé", 3, "ééé"},
		{"multi-byte kept whole", "Île-de-France", 5, "Île-d"},
		{"zero", "abc", 0, ""},
		{"negative", "abc", -1, ""},
		{"empty", "", 3, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Truncate(tc.in, tc.n); got != tc.want {
				t.Errorf("Truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
			}
		})
	}
}
