package httpapi

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"reflect"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/core/domain"
)

// readBody returns the raw request body. The body-limit middleware has
// already capped its size; exceeding it surfaces as a 413.
func readBody(c echo.Context) ([]byte, error) {
	b, err := io.ReadAll(c.Request().Body)
	if err != nil {
		var maxErr *echo.HTTPError
		if errors.As(err, &maxErr) {
			return nil, maxErr
		}
		return nil, domain.Invalid("invalid_body", "", "could not read request body")
	}
	return b, nil
}

// decodeStrict decodes one JSON object into v so that it reads the way
// every other parser does, or not at all:
//
//   - a member name that appears twice in one object, at any depth, is 400
//     duplicate_field (encoding/json let the last one win, so a WAF, a
//     signer or a log reader that keeps the first saw another request);
//   - a name that differs from a documented field only by letter case is
//     400 field_case_mismatch (encoding/json matched names case-insensitively);
//   - other unknown names are 400 unknown_field, wrong JSON types 400
//     invalid_type, and anything that is not exactly one well-formed JSON
//     value (trailing data, invalid UTF-8, a truncated body) 400 invalid_json.
//
// The field of each error is the member's path, dotted ("metadata.k").
// It uses the JSON v2 implementation (github.com/go-json-experiment/json),
// which rejects duplicate names and invalid UTF-8 by default and matches
// names case-sensitively; unknown members are rejected by option.
func decodeStrict(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return domain.Invalid("invalid_json", "", "request body must be a JSON object")
	}
	dec := jsontext.NewDecoder(bytes.NewReader(body))
	val, err := dec.ReadValue()
	if err != nil {
		return jsonError(err)
	}
	val = bytes.Clone(val) // valid only until the decoder's next read
	if _, err := dec.ReadToken(); err != io.EOF {
		return domain.Invalid("invalid_json", "", "request body must hold exactly one JSON object")
	}
	if err := json.Unmarshal(val, v, json.RejectUnknownMembers(true)); err != nil {
		return jsonError(err)
	}
	return nil
}

// jsonError maps a JSON v2 error to the API's error, naming the field.
func jsonError(err error) error {
	var semErr *json.SemanticError
	var synErr *jsontext.SyntacticError
	switch {
	case errors.As(err, &synErr) && errors.Is(err, jsontext.ErrDuplicateName):
		field := pointerField(synErr.JSONPointer)
		return domain.Invalid("duplicate_field", field,
			"field %q appears more than once; each field may be given once, at any depth", field)
	case errors.As(err, &semErr) && errors.Is(err, json.ErrUnknownName):
		field := pointerField(semErr.JSONPointer)
		name := semErr.JSONPointer.LastToken()
		if want, ok := caseVariant(semErr.GoType, name); ok {
			return domain.Invalid("field_case_mismatch", field,
				"field %q differs from %q only by letter case; field names are case-sensitive", field, want)
		}
		return domain.Invalid("unknown_field", field, "unknown field %q", field)
	case errors.As(err, &semErr):
		field := pointerField(semErr.JSONPointer)
		if semErr.GoType == nil || semErr.JSONKind == 0 {
			return domain.Invalid("invalid_type", field, "%s has an invalid value", orBody(field))
		}
		return domain.Invalid("invalid_type", field, "%s must be %s, got %s", orBody(field), goKindName(semErr.GoType), kindName(semErr.JSONKind))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return domain.Invalid("invalid_json", "", "truncated JSON body")
	case errors.As(err, &synErr):
		return domain.Invalid("invalid_json", pointerField(synErr.JSONPointer), "malformed JSON at byte %d: %s", synErr.ByteOffset, synErr.Err)
	default:
		return domain.Invalid("invalid_json", "", "malformed JSON")
	}
}

// pointerField renders a JSON Pointer ("/metadata/k") as the dotted field
// path errors carry ("metadata.k"); the root is "".
func pointerField(p jsontext.Pointer) string {
	var parts []string
	for tok := range p.Tokens() {
		parts = append(parts, tok)
	}
	return strings.Join(parts, ".")
}

// caseVariant reports the documented field name of struct type t that name
// equals apart from letter case, if there is one.
func caseVariant(t reflect.Type, name string) (string, bool) {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return "", false
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		fieldName, _, _ := strings.Cut(tag, ",")
		if fieldName == "" {
			fieldName = f.Name
		}
		if fieldName != name && strings.EqualFold(fieldName, name) {
			return fieldName, true
		}
	}
	return "", false
}

func orBody(field string) string {
	if field == "" {
		return "the body"
	}
	return field
}

// kindName names a JSON value kind for messages.
func kindName(k jsontext.Kind) string {
	switch k {
	case '"':
		return "a string"
	case '0':
		return "a number"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "another type"
}

// goKindName names what a Go type expects, for messages.
func goKindName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "a " + t.Kind().String()
}

// requireJSON rejects bodies that are not declared as JSON, so form posts
// cannot reach a JSON endpoint by accident.
func requireJSON(c echo.Context) error {
	ct := c.Request().Header.Get(echo.HeaderContentType)
	if ct == "" {
		return nil // curl -d without -H is common; the body must still parse as JSON
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return &echo.HTTPError{Code: 415, Message: fmt.Sprintf("content type %q is not JSON", ct)}
	}
	return nil
}
