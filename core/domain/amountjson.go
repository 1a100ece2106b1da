package domain

import (
	"bytes"
	"encoding/json"
)

// ParseAmountJSON reads an amount field as the API sends it: a JSON string
// holding a decimal in c's major unit. A JSON number is refused (it loses
// precision in many clients) with its own message.
func ParseAmountJSON(raw json.RawMessage, c Currency) (int64, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '"' {
		return 0, Invalid("invalid_amount", "amount",
			`amount must be a JSON string such as "49.95", not a number: numbers lose precision`)
	}
	var text string
	if err := json.Unmarshal(raw, &text); err != nil {
		return 0, Invalid("invalid_amount", "amount", "amount must be a decimal string")
	}
	return ParseAmount(text, c)
}
