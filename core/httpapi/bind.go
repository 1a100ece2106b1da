package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"

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

// decodeStrict decodes a JSON object into v, rejecting unknown fields,
// trailing data and wrong types with errors that name the field.
func decodeStrict(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return domain.Invalid("invalid_json", "", "request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return domain.Invalid("invalid_json", "", "request body must hold exactly one JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return domain.Invalid("invalid_json", "", "request body must hold exactly one JSON object")
	}
	return nil
}

func jsonError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if typeErr.Value == "number" && typeErr.Type.Kind().String() == "string" {
			return domain.Invalid("invalid_type", field, "%s must be a string, got a JSON number; send decimals as strings, e.g. \"49.95\"", field)
		}
		return domain.Invalid("invalid_type", field, "%s must be %s, got %s", field, kindName(typeErr.Type.Kind().String()), typeErr.Value)
	case errors.As(err, &syntaxErr):
		return domain.Invalid("invalid_json", "", "malformed JSON at byte %d", syntaxErr.Offset)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return domain.Invalid("unknown_field", field, "unknown field %q", field)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return domain.Invalid("invalid_json", "", "truncated JSON body")
	default:
		return domain.Invalid("invalid_json", "", "malformed JSON: %s", err.Error())
	}
}

func kindName(k string) string {
	switch k {
	case "map", "struct":
		return "an object"
	case "slice":
		return "an array"
	case "int64", "int", "float64":
		return "a number"
	default:
		return "a " + k
	}
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
