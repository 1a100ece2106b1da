package domains

import (
	"encoding/json"
	"time"

	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/sdk/registrar"
)

// apiTime is RFC 3339 UTC at second precision, like every API time.
const apiTime = "2006-01-02T15:04:05Z"

func timeOrNil(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.UTC().Format(apiTime)
	return &s
}

// View is a domain as the admin API, the CLI and the domain.* events show
// it. It never carries an auth code.
type View struct {
	DomainID    string   `json:"domain_id"`
	Domain      string   `json:"domain"`
	DisplayName string   `json:"display_name"`
	Status      string   `json:"status"`
	Action      string   `json:"action"`
	Years       int      `json:"years"`
	MerchantID  int64    `json:"merchant_id"`
	Mode        string   `json:"mode"`
	SessionID   string   `json:"session_id"`
	ItemID      string   `json:"item_id"`
	ExpiresAt   *string  `json:"expires_at"`
	Nameservers []string `json:"nameservers"`
	Locked      bool     `json:"locked"`
	AutoRenew   bool     `json:"auto_renew"`
	MailDNS     bool     `json:"mail_dns"`
	// FailureMessage says why a registration failed or needs an operator.
	FailureMessage *string `json:"failure_message"`
	CreatedAt      string  `json:"created_at"`
	UpdatedAt      string  `json:"updated_at"`
}

// OperationView is a domain operation.
type OperationView struct {
	OperationID          string  `json:"operation_id"`
	Type                 string  `json:"type"`
	Status               string  `json:"status"`
	RegistrarOperationID *string `json:"registrar_operation_id"`
	Years                int     `json:"years,omitempty"`
	Message              *string `json:"message"`
	Polls                int     `json:"polls"`
	RequestedBy          string  `json:"requested_by"`
	CreatedAt            string  `json:"created_at"`
	SubmittedAt          *string `json:"submitted_at"`
	FinishedAt           *string `json:"finished_at"`
}

// RecordView is a DNS record set as the admin API and the CLI show it.
type RecordView struct {
	Name   string   `json:"name"`
	Type   string   `json:"type"`
	TTL    int      `json:"ttl"`
	Values []string `json:"values"`
}

// RecordViews renders record sets.
func RecordViews(recs []registrar.Record) []RecordView {
	out := make([]RecordView, 0, len(recs))
	for _, r := range recs {
		out = append(out, RecordView{Name: r.Name, Type: r.Type, TTL: r.TTL, Values: r.Values})
	}
	return out
}

// Detail is a domain with its operations, oldest first.
type Detail struct {
	View
	Operations []OperationView `json:"operations"`
}

// ViewOf renders a domain.
func ViewOf(d *store.Domain) View {
	v := View{
		DomainID: d.ID, Domain: d.Name, DisplayName: DisplayName(d.Name), Status: d.Status, Action: d.Action, Years: d.Years,
		MerchantID: d.MerchantID, Mode: string(d.Mode), SessionID: d.SessionID, ItemID: d.ItemID,
		ExpiresAt: timeOrNil(d.ExpiresAt), Nameservers: parseList(d.Nameservers), Locked: d.Locked, AutoRenew: d.AutoRenew,
		MailDNS: d.MailDNS, CreatedAt: d.CreatedAt.UTC().Format(apiTime), UpdatedAt: d.UpdatedAt.UTC().Format(apiTime),
	}
	if d.FailureMessage != "" {
		m := d.FailureMessage
		v.FailureMessage = &m
	}
	return v
}

// OperationViewOf renders an operation.
func OperationViewOf(op *store.DomainOperation) OperationView {
	v := OperationView{
		OperationID: op.ID, Type: op.Type, Status: op.Status, Years: op.Years, Polls: op.Polls, RequestedBy: op.RequestedBy,
		CreatedAt: op.CreatedAt.UTC().Format(apiTime), SubmittedAt: timeOrNil(op.SubmittedAt), FinishedAt: timeOrNil(op.FinishedAt),
	}
	if op.RegistrarOpID != "" {
		id := op.RegistrarOpID
		v.RegistrarOperationID = &id
	}
	if op.Message != "" {
		m := op.Message
		v.Message = &m
	}
	return v
}

// eventData is the data of a domain.* event: the domain and the
// operation that caused it (none for domain.expired).
type eventData struct {
	View
	Operation *OperationView `json:"operation"`
}

func renderEvent(d *store.Domain, op *store.DomainOperation) ([]byte, error) {
	ev := eventData{View: ViewOf(d)}
	if op != nil {
		ov := OperationViewOf(op)
		ev.Operation = &ov
	}
	return json.Marshal(ev)
}

func params(op *store.DomainOperation) opParams {
	var p opParams
	_ = json.Unmarshal([]byte(op.Params), &p) // written by mustJSON
	return p
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain structs of strings are encoded
	}
	return string(b)
}
