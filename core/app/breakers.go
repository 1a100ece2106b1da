package app

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/switchyard/switchyard/core/routing"
	"github.com/switchyard/switchyard/core/store"
)

// breakerRefresh is how often a serving instance republishes its breakers
// even when none changed; `plugins list` treats reports older than
// BreakerReportMaxAge as instances that are gone.
const breakerRefresh = 15 * time.Second

// BreakerReportMaxAge is how old a breaker report may be and still count
// as a running instance's.
const BreakerReportMaxAge = 4 * breakerRefresh

func (a *App) signalBreakerChange(string) {
	select {
	case a.breakerChanged <- struct{}{}:
	default:
	}
}

// instanceID names this process in breaker reports: host and pid.
func instanceID() string {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	return fmt.Sprintf("%s:%d", host, os.Getpid())
}

// publishBreakers writes this instance's breakers to the store when one
// opens or closes and every breakerRefresh, until shutdown, which removes
// them. Circuit breakers stay per instance; this only lets `switchyard
// plugins list` show every instance's.
func (a *App) publishBreakers(ctx context.Context) {
	id := instanceID()
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	publish := func() {
		bs := a.Router.Breakers()
		rows := make([]store.BreakerState, 0, len(bs))
		for _, b := range bs {
			row := store.BreakerState{ProviderID: b.ProviderID, State: string(b.State), Failures: b.Failures}
			if b.State != routing.BreakerClosed {
				until := b.OpenUntil
				row.OpenUntil = &until
			}
			rows = append(rows, row)
		}
		if err := a.Store.PublishBreakerStates(ctx, id, rows); err != nil && ctx.Err() == nil {
			a.Logger.Warn("could not publish circuit breaker states", "err", err)
		}
	}
	go func() {
		defer close(done)
		tick := time.NewTicker(breakerRefresh)
		defer tick.Stop()
		for {
			publish()
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			case <-a.breakerChanged:
			}
		}
	}()
	a.onClose(func(closeCtx context.Context) error {
		cancel()
		<-done
		return a.Store.DeleteBreakerStates(closeCtx, id)
	})
}
