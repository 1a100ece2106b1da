package mail

import (
	"reflect"
	"strings"
	"time"
)

// The data each template is rendered with. Field comments are in the
// `mail` tags so the admin API and docs list the variables from one place
// (Variables).

// Merchant is who a customer mail is from.
type Merchant struct {
	ID           int64  `mail:"the merchant's id"`
	Name         string `mail:"the merchant's name"`
	ContactEmail string `mail:"the merchant's contact email"`
}

// Customer is whom a customer mail is to.
type Customer struct {
	Email string `mail:"the customer's email address"`
	Name  string `mail:"the customer's name, when known (may be empty)"`
}

// PaymentReceiptData is PaymentReceipt's data.
type PaymentReceiptData struct {
	Merchant  Merchant
	Customer  Customer
	SessionID string    `mail:"the checkout session id (cs_…)"`
	OrderID   string    `mail:"the merchant's order id"`
	Site      string    `mail:"the site domain the session was created for"`
	Amount    string    `mail:"the amount paid as a decimal string (49.95)"`
	Currency  string    `mail:"its ISO 4217 currency code (USD)"`
	Method    string    `mail:"the payment method (may be empty)"`
	PaidAt    time.Time `mail:"when the payment was confirmed; use {{date .PaidAt}}"`
	Test      bool      `mail:"true for a test-mode session"`
}

// RefundReceiptData is RefundReceipt's data.
type RefundReceiptData struct {
	Merchant   Merchant
	Customer   Customer
	SessionID  string    `mail:"the checkout session id (cs_…)"`
	OrderID    string    `mail:"the merchant's order id"`
	Site       string    `mail:"the site domain"`
	RefundID   string    `mail:"the refund id (re_…)"`
	Amount     string    `mail:"the amount refunded as a decimal string"`
	Currency   string    `mail:"its ISO 4217 currency code"`
	PaidAmount string    `mail:"the amount the customer paid, as a decimal string"`
	Full       bool      `mail:"true when the whole payment was refunded"`
	Reason     string    `mail:"the refund reason code (may be empty)"`
	RefundedAt time.Time `mail:"when the refund succeeded"`
	Test       bool      `mail:"true for a test-mode session"`
}

// ServiceReadyData is ServiceReady's data: the login details of a new
// hosting account. Password is only ever rendered into the mail.
type ServiceReadyData struct {
	Merchant  Merchant
	Customer  Customer
	ServiceID string `mail:"the service id"`
	Product   string `mail:"the product's name (may be empty)"`
	Domain    string `mail:"the account's domain"`
	Username  string `mail:"the control panel username"`
	Password  string `mail:"the control panel password (only in this mail; never stored or logged)"`
	PanelURL  string `mail:"the control panel's URL"`
	LoginURL  string `mail:"a one-time login link (empty unless the product enables it)"`
	// LoginURLExpiresAt is when LoginURL stops working (nil without one).
	LoginURLExpiresAt *time.Time `mail:"when the one-time link expires (nil without one)"`
	OrderID           string     `mail:"the merchant's order id (may be empty)"`
	Package           string     `mail:"the hosting package (may be empty)"`
	Server            string     `mail:"the server's hostname (may be empty)"`
	IP                string     `mail:"the account's IP address (may be empty)"`
	Nameservers       []string   `mail:"name servers to point the domain to (may be empty); use {{join .Nameservers \", \"}}"`
}

// ServiceSuspendedData is ServiceSuspended's data.
type ServiceSuspendedData struct {
	Merchant    Merchant
	Customer    Customer
	ServiceID   string    `mail:"the service id"`
	Product     string    `mail:"the product's name (may be empty)"`
	Domain      string    `mail:"the account's domain"`
	Username    string    `mail:"the control panel username"`
	Reason      string    `mail:"why, in words for the customer (may be empty)"`
	SuspendedAt time.Time `mail:"when it was suspended"`
}

// WebhookNoticeData is the data of WebhookDeliveryFailed and
// WebhookEndpointDisabled, mailed to the merchant's contact.
type WebhookNoticeData struct {
	Merchant   Merchant
	EndpointID string    `mail:"the endpoint id"`
	DeliveryID string    `mail:"the delivery id (whd_…)"`
	EventID    string    `mail:"the event id (evt_…)"`
	EventType  string    `mail:"the event type (session.paid)"`
	URL        string    `mail:"the endpoint URL"`
	Attempts   int       `mail:"how many attempts were made"`
	LastError  string    `mail:"the last attempt's error"`
	At         time.Time `mail:"when the delivery failed"`
}

// Variable is one value a template may use.
type Variable struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Description string `json:"description"`
}

// Variables lists the values template name may use, as {{.Path}}s.
func Variables(name Name) []Variable {
	sp, ok := specOf(name)
	if !ok {
		return nil
	}
	return variablesOf(reflect.TypeOf(sp.samples[0]), "")
}

func variablesOf(t reflect.Type, prefix string) []Variable {
	var out []Variable
	for i := range t.NumField() {
		f := t.Field(i)
		path := prefix + "." + f.Name
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(time.Time{}) {
			out = append(out, variablesOf(f.Type, path)...)
			continue
		}
		typ := strings.TrimPrefix(f.Type.String(), "*")
		if typ == "time.Time" {
			typ = "time"
		}
		out = append(out, Variable{Name: path, Type: typ, Description: f.Tag.Get("mail")})
	}
	return out
}

// Sample data: what overrides are rendered with at save time and what
// previews show. full sets every optional value.

var sampleTime = time.Date(2026, 12, 5, 14, 3, 0, 0, time.UTC)

func sampleMerchant(full bool) Merchant {
	m := Merchant{ID: 42, Name: "Acme Hosting"}
	if full {
		m.ContactEmail = "support@acme.example"
	}
	return m
}

func sampleCustomer(full bool) Customer {
	c := Customer{Email: "ann@customer.example"}
	if full {
		c.Name = "Ann Müller"
	}
	return c
}

func samplePaymentReceipt(full bool) PaymentReceiptData {
	d := PaymentReceiptData{Merchant: sampleMerchant(full), Customer: sampleCustomer(full), SessionID: "cs_01JEXAMPLE00000000000000000",
		OrderID: "A-1001", Site: "shop.acme.example", Amount: "49.95", Currency: "USD", PaidAt: sampleTime}
	if full {
		d.Method, d.Test = "card", true
	}
	return d
}

func sampleRefundReceipt(full bool) RefundReceiptData {
	d := RefundReceiptData{Merchant: sampleMerchant(full), Customer: sampleCustomer(full), SessionID: "cs_01JEXAMPLE00000000000000000",
		OrderID: "A-1001", Site: "shop.acme.example", RefundID: "re_01JEXAMPLE00000000000000000", Amount: "10.00",
		Currency: "USD", PaidAmount: "49.95", RefundedAt: sampleTime}
	if full {
		d.Full, d.Reason, d.Test = true, "requested_by_customer", true
	}
	return d
}

func sampleServiceReady(full bool) ServiceReadyData {
	d := ServiceReadyData{Merchant: sampleMerchant(full), Customer: sampleCustomer(full), ServiceID: "svc_01JEXAMPLE",
		Domain: "ann.example", Username: "annexam", Password: "S4mple-Passw0rd!", PanelURL: "https://panel.acme.example:2083"}
	if full {
		exp := sampleTime.Add(30 * time.Minute)
		d.Product, d.LoginURL, d.LoginURLExpiresAt, d.OrderID = "Basic hosting", "https://panel.acme.example:2083/cpsess0000/login/?session=x", &exp, "A-1001"
		d.Package, d.Server, d.IP, d.Nameservers = "basic", "srv1.acme.example", "203.0.113.10", []string{"ns1.acme.example", "ns2.acme.example"}
	}
	return d
}

func sampleServiceSuspended(full bool) ServiceSuspendedData {
	d := ServiceSuspendedData{Merchant: sampleMerchant(full), Customer: sampleCustomer(full), ServiceID: "svc_01JEXAMPLE",
		Domain: "ann.example", Username: "annexam", SuspendedAt: sampleTime}
	if full {
		d.Product, d.Reason = "Basic hosting", "the payment was refunded"
	}
	return d
}

func sampleWebhookNotice(full bool) WebhookNoticeData {
	d := WebhookNoticeData{Merchant: sampleMerchant(full), DeliveryID: "whd_01JEXAMPLE", EventID: "evt_01JEXAMPLE",
		EventType: "session.paid", URL: "https://shop.acme.example/hooks", Attempts: 8, At: sampleTime}
	if full {
		d.EndpointID, d.LastError = "we_01JEXAMPLE", "receiver answered 500"
	}
	return d
}
