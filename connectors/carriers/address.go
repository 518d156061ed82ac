package carriers

import (
	"strings"
	"unicode/utf8"
)

// The address normalisation every carrier client does before applying its own
// field rules (lengths, which parts are required): country names to ISO codes,
// state and province names to their two-letter codes, phone numbers to digits.

// CountryCode is the ISO 3166-1 alpha-2 code of a country, upper case: a few alpha-3
// codes and names the hub's sources send are mapped ("usa", "United States" → "US",
// "UK" → "GB"); anything else comes back trimmed and upper case.
func CountryCode(country string) string {
	c := strings.ToUpper(strings.TrimSpace(country))
	if a2, ok := countryAliases[c]; ok {
		return a2
	}
	return c
}

// countryAliases are spellings of countries that are not ISO alpha-2, upper case.
var countryAliases = map[string]string{
	"USA": "US", "UNITED STATES": "US", "UNITED STATES OF AMERICA": "US",
	"CAN": "CA", "CANADA": "CA", "MEX": "MX", "MEXICO": "MX", "PRI": "PR", "PUERTO RICO": "PR",
	"GBR": "GB", "UK": "GB", "UNITED KINGDOM": "GB", "DEU": "DE", "GERMANY": "DE",
	"FRA": "FR", "FRANCE": "FR", "NLD": "NL", "NETHERLANDS": "NL", "ITA": "IT", "ITALY": "IT",
	"ESP": "ES", "SPAIN": "ES",
}

// RegionCode is the state or province of an address in country (an ISO alpha-2
// code, as CountryCode returns). In the United States, the territories and freely
// associated states the US Postal Service addresses as states, and Canada, a name
// or a code in any spelling becomes the two-letter code: "California", "ca",
// "US-CA" → "CA"; "new  york", "N.Y." → "NY"; "Québec" → "QC". A region it does not
// know comes back upper case, without dots, its spaces collapsed. Other countries'
// regions come back trimmed, as given.
func RegionCode(country, region string) string {
	if !regionCountries[country] {
		return strings.TrimSpace(region)
	}
	r := strings.ToUpper(strings.Join(strings.Fields(strings.ReplaceAll(region, ".", "")), " "))
	// An ISO 3166-2 subdivision code: "US-CA", "CA-ON".
	if len(r) > 3 && r[2] == '-' && regionCountries[r[:2]] {
		r = r[3:]
	}
	if code, ok := regionNames[r]; ok {
		return code
	}
	return r
}

// regionCountries are the countries whose regions RegionCode knows.
var regionCountries = map[string]bool{
	"US": true, "CA": true,
	"PR": true, "GU": true, "VI": true, "AS": true, "MP": true, "FM": true, "MH": true, "PW": true,
}

// regionNames are the names of the US states, the District of Columbia, the
// inhabited US territories and the Canadian provinces and territories, upper case,
// to their two-letter codes.
var regionNames = map[string]string{
	"ALABAMA": "AL", "ALASKA": "AK", "ARIZONA": "AZ", "ARKANSAS": "AR", "CALIFORNIA": "CA",
	"COLORADO": "CO", "CONNECTICUT": "CT", "DELAWARE": "DE", "DISTRICT OF COLUMBIA": "DC",
	"FLORIDA": "FL", "GEORGIA": "GA", "HAWAII": "HI", "IDAHO": "ID", "ILLINOIS": "IL",
	"INDIANA": "IN", "IOWA": "IA", "KANSAS": "KS", "KENTUCKY": "KY", "LOUISIANA": "LA",
	"MAINE": "ME", "MARYLAND": "MD", "MASSACHUSETTS": "MA", "MICHIGAN": "MI", "MINNESOTA": "MN",
	"MISSISSIPPI": "MS", "MISSOURI": "MO", "MONTANA": "MT", "NEBRASKA": "NE", "NEVADA": "NV",
	"NEW HAMPSHIRE": "NH", "NEW JERSEY": "NJ", "NEW MEXICO": "NM", "NEW YORK": "NY",
	"NORTH CAROLINA": "NC", "NORTH DAKOTA": "ND", "OHIO": "OH", "OKLAHOMA": "OK", "OREGON": "OR",
	"PENNSYLVANIA": "PA", "RHODE ISLAND": "RI", "SOUTH CAROLINA": "SC", "SOUTH DAKOTA": "SD",
	"TENNESSEE": "TN", "TEXAS": "TX", "UTAH": "UT", "VERMONT": "VT", "VIRGINIA": "VA",
	"WASHINGTON": "WA", "WEST VIRGINIA": "WV", "WISCONSIN": "WI", "WYOMING": "WY",

	"PUERTO RICO": "PR", "GUAM": "GU", "VIRGIN ISLANDS": "VI", "AMERICAN SAMOA": "AS",
	"NORTHERN MARIANA ISLANDS": "MP",

	"ALBERTA": "AB", "BRITISH COLUMBIA": "BC", "MANITOBA": "MB", "NEW BRUNSWICK": "NB",
	"NEWFOUNDLAND AND LABRADOR": "NL", "NEWFOUNDLAND": "NL", "NOVA SCOTIA": "NS",
	"NORTHWEST TERRITORIES": "NT", "NUNAVUT": "NU", "ONTARIO": "ON", "PRINCE EDWARD ISLAND": "PE",
	"QUEBEC": "QC", "QUÉBEC": "QC", "SASKATCHEWAN": "SK", "YUKON": "YT",
}

// Digits keeps the ASCII digits of s: "(614) 555-0100" → "6145550100",
// "10001-2170" → "100012170".
func Digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// PhoneDigits is a phone number's digits. In the US, Canada and Puerto Rico (country
// as CountryCode returns it) an 11-digit number that starts with the country code 1
// loses it, leaving the 10-digit national number: "+1 (415) 555-0100" →
// "4155550100". Other numbers keep every digit.
func PhoneDigits(country, phone string) string {
	d := Digits(phone)
	if (country == "US" || country == "CA" || country == "PR") && len(d) == 11 && d[0] == '1' {
		d = d[1:]
	}
	return d
}

// Truncate cuts s to at most n runes (not bytes), so a cut never splits a
// character: carriers count field lengths in characters.
func Truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
