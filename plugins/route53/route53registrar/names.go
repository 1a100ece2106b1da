package route53registrar

import (
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53domains/types"
	"golang.org/x/net/idna"

	"github.com/switchyard/switchyard/sdk"
	"github.com/switchyard/switchyard/sdk/registrar"
)

var (
	ldhLabel    = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	phoneFormat = regexp.MustCompile(`^\+[0-9]{1,3}\.[0-9]{4,17}$`)
	countryCode = regexp.MustCompile(`^[A-Z]{2}$`)
)

// normalizeDomain returns the registrable form Route 53 Domains expects:
// lower case, IDNs as punycode (A-labels), no trailing dot. field names
// the request field for the error.
func normalizeDomain(raw, field string) (string, error) {
	d := strings.TrimSuffix(strings.TrimSpace(raw), ".")
	if d == "" {
		return "", sdk.Invalid("a domain name is required").WithField(field)
	}
	ascii, err := idna.Lookup.ToASCII(d)
	if err != nil {
		return "", sdk.Invalid("%q is not a valid domain name: %v", raw, err).WithField(field)
	}
	ascii = strings.ToLower(ascii)
	labels := strings.Split(ascii, ".")
	if len(labels) < 2 || len(ascii) > 253 {
		return "", sdk.Invalid("%q is not a registrable domain name (it needs a name and a TLD)", raw).WithField(field)
	}
	for _, l := range labels {
		if !ldhLabel.MatchString(l) {
			return "", sdk.Invalid("%q is not a valid domain name (label %q)", raw, l).WithField(field)
		}
	}
	if tld := labels[len(labels)-1]; strings.Trim(tld, "0123456789") == "" {
		return "", sdk.Invalid("%q has a numeric TLD", raw).WithField(field)
	}
	return ascii, nil
}

// normalizeHost validates a nameserver host name.
func normalizeHost(raw, field string) (string, error) {
	h, err := normalizeDomain(raw, field)
	if err != nil {
		return "", sdk.Invalid("%q is not a valid host name", raw).WithField(field)
	}
	return h, nil
}

func validateYears(years int) error {
	if years < 1 || years > 10 {
		return sdk.Invalid("years must be from 1 to 10, got %d", years).WithField("years")
	}
	return nil
}

// contactDetail validates c and converts it; field prefixes error fields
// ("registrant", "admin", "tech").
func contactDetail(c registrar.Contact, field string) (*types.ContactDetail, error) {
	required := []struct{ name, value string }{
		{"first_name", c.FirstName}, {"last_name", c.LastName}, {"email", c.Email},
		{"phone", c.Phone}, {"address1", c.Address1}, {"city", c.City}, {"country_code", c.CountryCode},
	}
	for _, r := range required {
		if strings.TrimSpace(r.value) == "" {
			return nil, sdk.Invalid("%s contact: %s is required", field, r.name).WithField(field + "." + r.name)
		}
	}
	if !phoneFormat.MatchString(c.Phone) {
		return nil, sdk.Invalid("%s contact: phone must look like +1.5555550100 (country code, dot, number)", field).WithField(field + ".phone")
	}
	if !strings.Contains(c.Email, "@") {
		return nil, sdk.Invalid("%s contact: email is not an address", field).WithField(field + ".email")
	}
	cc := strings.ToUpper(strings.TrimSpace(c.CountryCode))
	if !countryCode.MatchString(cc) {
		return nil, sdk.Invalid("%s contact: country_code must be ISO 3166-1 alpha-2", field).WithField(field + ".country_code")
	}
	d := &types.ContactDetail{
		FirstName: aws.String(c.FirstName), LastName: aws.String(c.LastName), Email: aws.String(c.Email),
		PhoneNumber: aws.String(c.Phone), AddressLine1: aws.String(c.Address1), City: aws.String(c.City),
		CountryCode: types.CountryCode(cc), ContactType: types.ContactTypePerson,
		AddressLine2: nonEmpty(c.Address2), State: nonEmpty(c.State), ZipCode: nonEmpty(c.PostalCode),
	}
	if c.Organization != "" {
		d.ContactType = types.ContactTypeCompany
		d.OrganizationName = aws.String(c.Organization)
	}
	return d, nil
}

func nonEmpty(s string) *string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	return aws.String(s)
}

// contacts converts the registrant and the optional admin and tech
// contacts, which default to the registrant.
func contacts(registrant registrar.Contact, admin, tech *registrar.Contact) (reg, adm, tec *types.ContactDetail, err error) {
	if reg, err = contactDetail(registrant, "registrant"); err != nil {
		return nil, nil, nil, err
	}
	adm, tec = reg, reg
	if admin != nil {
		if adm, err = contactDetail(*admin, "admin"); err != nil {
			return nil, nil, nil, err
		}
	}
	if tech != nil {
		if tec, err = contactDetail(*tech, "tech"); err != nil {
			return nil, nil, nil, err
		}
	}
	return reg, adm, tec, nil
}
