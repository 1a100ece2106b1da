package httpapi

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/core/payments"
)

// ReviewAdmin is what the admin API needs to hold and resolve money
// reviews; *payments.Service implements it.
type ReviewAdmin interface {
	ListReviews(ctx context.Context, in payments.ReviewListRequest) ([]*payments.ReviewView, error)
	GetReview(ctx context.Context, id string) (*payments.ReviewView, error)
	ResolveReview(ctx context.Context, id string, in payments.ResolveReviewRequest) (*payments.ReviewView, error)
	AdminSession(ctx context.Context, id string) (*payments.SessionDetail, error)
}

var _ ReviewAdmin = (*payments.Service)(nil)

// AdminOperator is how admin API decisions are attributed in the record
// when the token's operator is not known (AdminAccess not mounted); with
// it, they are attributed to "api:" + the token's name.
const AdminOperator = "admin-api"

// AdminReviews mounts the operator's money reviews behind operator token
// auth, the HTTP twin of `switchyard reviews`:
//
//	GET  /admin/v1/reviews?status=pending|open|refund_pending|resolved|all&merchant=&after=&limit=
//	GET  /admin/v1/reviews/:id
//	POST /admin/v1/reviews/:id/resolve   {"action": "accept"|"refund", "note": "…"}
//	GET  /admin/v1/sessions/:id          any merchant's session with its reviews
func AdminReviews(svc ReviewAdmin, tokens []string) Mount {
	h := &reviewHandlers{svc: svc}
	return func(e *echo.Echo) {
		g := e.Group("/admin/v1", AdminAuth(tokens))
		g.GET("/reviews", h.list)
		g.GET("/reviews/:id", h.get)
		g.POST("/reviews/:id/resolve", h.resolve)
		g.GET("/sessions/:id", h.session)
	}
}

type reviewHandlers struct {
	svc ReviewAdmin
}

func (h *reviewHandlers) list(c echo.Context) error {
	p, err := queryPage(c)
	if err != nil {
		return err
	}
	rvs, err := h.svc.ListReviews(c.Request().Context(), payments.ReviewListRequest{
		Status: c.QueryParam("status"), MerchantID: p.merchantID, After: p.after, Limit: p.limit,
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listOf(rvs))
}

func (h *reviewHandlers) get(c echo.Context) error {
	rv, err := h.svc.GetReview(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rv)
}

func (h *reviewHandlers) resolve(c echo.Context) error {
	var in struct {
		Action string `json:"action"`
		Note   string `json:"note"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	rv, err := h.svc.ResolveReview(c.Request().Context(), c.Param("id"),
		payments.ResolveReviewRequest{Action: in.Action, Note: in.Note, Operator: apiOperator(c)})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rv)
}

func (h *reviewHandlers) session(c echo.Context) error {
	d, err := h.svc.AdminSession(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}
