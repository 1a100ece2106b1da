package httpapi

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/core/domain"
)

// errorBody is the one error shape every endpoint returns (DESIGN §4).
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// retryAfterError carries a Retry-After hint for 429 responses.
type retryAfterError struct {
	err   error
	after time.Duration
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// statusFor maps an error category to an HTTP status. Unknown errors are
// ours: 500, with a generic message so internals never leak.
func statusFor(err error) int {
	switch {
	case errors.Is(err, domain.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, domain.ErrUnauthorized):
		return http.StatusUnauthorized
	case errors.Is(err, domain.ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, domain.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, domain.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, domain.ErrUnprocessable):
		return http.StatusUnprocessableEntity
	case errors.Is(err, domain.ErrRateLimited):
		return http.StatusTooManyRequests
	case errors.Is(err, domain.ErrUnavailable):
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

var defaultCodes = map[int]string{
	http.StatusBadRequest:            "invalid_request",
	http.StatusUnauthorized:          "unauthorized",
	http.StatusForbidden:             "forbidden",
	http.StatusNotFound:              "not_found",
	http.StatusMethodNotAllowed:      "method_not_allowed",
	http.StatusConflict:              "conflict",
	http.StatusRequestEntityTooLarge: "body_too_large",
	http.StatusUnsupportedMediaType:  "unsupported_media_type",
	http.StatusUnprocessableEntity:   "unprocessable",
	http.StatusTooManyRequests:       "rate_limited",
	http.StatusServiceUnavailable:    "unavailable",
	http.StatusInternalServerError:   "internal_error",
}

// newErrorHandler is echo's HTTPErrorHandler: the single place errors become
// responses. Routing errors from echo itself (404, 405, 413) get the same shape.
func newErrorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		status, body := render(err)
		if status >= 500 {
			log.ErrorContext(c.Request().Context(), "request failed",
				"method", c.Request().Method, "path", c.Path(), "err", err)
		}
		var ra *retryAfterError
		if errors.As(err, &ra) && ra.after > 0 {
			secs := int((ra.after + time.Second - 1) / time.Second)
			c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(status)
			return
		}
		_ = c.JSON(status, body)
	}
}

func render(err error) (int, errorBody) {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		msg := http.StatusText(he.Code)
		if he.Code == http.StatusRequestEntityTooLarge {
			msg = "request body is too large"
		}
		code := defaultCodes[he.Code]
		if code == "" {
			code = "http_error"
		}
		return he.Code, errorBody{Error: errorDetail{Code: code, Message: msg}}
	}
	status := statusFor(err)
	if de, ok := domain.AsError(err); ok && status < 500 {
		return status, errorBody{Error: errorDetail{Code: de.Code, Message: de.Message, Field: de.Field}}
	}
	if status >= 500 && status != http.StatusServiceUnavailable {
		return status, errorBody{Error: errorDetail{Code: defaultCodes[status], Message: "internal error"}}
	}
	if de, ok := domain.AsError(err); ok {
		return status, errorBody{Error: errorDetail{Code: de.Code, Message: de.Message, Field: de.Field}}
	}
	return status, errorBody{Error: errorDetail{Code: defaultCodes[status], Message: http.StatusText(status)}}
}
