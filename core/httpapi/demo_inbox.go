package httpapi

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"
)

// DemoInboxPath is where DemoInbox listens on the admin listener.
const DemoInboxPath = "/demo/inbox"

// DemoInbox mounts a development webhook receiver (admin.demo_inbox): it
// answers every POST with 204 and logs the event's id and type, so the
// demo merchant's endpoint has a receiver that succeeds and an operator
// can watch deliveries and resends in the console. It verifies nothing
// and keeps nothing: it stands in for the merchant's own app.
func DemoInbox(log *slog.Logger) Mount {
	return func(e *echo.Echo) {
		e.POST(DemoInboxPath, func(c echo.Context) error {
			body, err := readBody(c)
			if err != nil {
				return err
			}
			var env struct {
				ID    string `json:"id"`
				Event string `json:"event"`
			}
			_ = json.Unmarshal(body, &env)
			log.InfoContext(c.Request().Context(), "demo inbox received a webhook",
				"event_id", env.ID, "event", env.Event, "bytes", len(body),
				"webhook_id", c.Request().Header.Get("Webhook-Id"))
			return c.NoContent(http.StatusNoContent)
		})
	}
}
