package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/irego/irego/engine"
)

// expireEvents deletes change events past their retention every hour (the
// engine does it when it opens, and a server runs for long) until ctx
// ends; the function it returns waits for that.
func expireEvents(ctx context.Context, e *engine.Engine, log *slog.Logger) (wait func()) {
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Hour)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if n, err := e.ExpireEvents(); err != nil {
				log.Warn("expiring change events", "err", err)
			} else if n > 0 {
				log.Info("expired change events", "deleted", n)
			}
		}
	})
	return wg.Wait
}
