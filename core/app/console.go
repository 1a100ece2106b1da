package app

import (
	"github.com/switchyard/switchyard/core/console"
	"github.com/switchyard/switchyard/core/httpapi"
	"github.com/switchyard/switchyard/core/ratelimit"
)

// operatorMounts are what the admin listener has besides the API groups:
// the role check and audit of the admin API, the operator console (when
// admin.console.enabled) and the demo inbox (admin.demo_inbox).
func (a *App) operatorMounts() ([]httpapi.Mount, error) {
	cfg := a.Config.Admin
	auth := console.NewAuth(a.Store, console.AuthOptions{
		Operators: cfg.Operators(), IdleTimeout: cfg.Console.IdleTimeout, MaxAge: cfg.Console.MaxAge,
	})
	mounts := []httpapi.Mount{httpapi.AdminAccess(auth.IdentifyToken, a.Audit)}
	if cfg.Console.Enabled {
		pages, err := console.NewRenderer()
		if err != nil {
			return nil, err
		}
		lim := cfg.Console.LoginRateLimit
		mounts = append(mounts, httpapi.Console(httpapi.ConsoleServices{
			Merchants: a.Merchants,
			Webhooks:  a.Webhooks,
			Sessions:  a.Payments,
			Refunds:   a.Refunds,
			Services:  a.Fulfillment,
			Domains:   a.Domains,
			Plugins:   a.Plugins,
			Audit:     a.Audit,
		}, httpapi.ConsoleOptions{
			Auth:         auth,
			Pages:        pages,
			LoginLimiter: ratelimit.NewLocal(ratelimit.Rate{PerSecond: lim.PerMinute / 60, Burst: lim.Burst}, nil),
			BaseURL:      cfg.Console.BaseURL,
			Logger:       a.Logger,
		}))
	}
	if cfg.DemoInbox {
		mounts = append(mounts, httpapi.DemoInbox(a.Logger))
	}
	return mounts, nil
}
