package apikey

import (
	"context"
	"fmt"
	"sync"
)

// worker is the lifecycle the library's background loops share (the
// Follower, the Scheduler, the UsageTracker): nothing runs until start,
// and stop cancels the loop and waits for it to return. A stopped worker
// can be started again.
type worker struct {
	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// start runs loop in a goroutine with a context that stop cancels. It
// fails with ErrConflict, naming what, if the worker is already running.
func (w *worker) start(ctx context.Context, what string, loop func(context.Context)) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done != nil {
		return fmt.Errorf("%w: %s already started", ErrConflict, what)
	}
	ctx, w.cancel = context.WithCancel(ctx)
	done := make(chan struct{})
	w.done = done
	go func() {
		defer close(done)
		loop(ctx)
	}()
	return nil
}

// running reports whether the worker has been started and not stopped.
func (w *worker) running() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.done != nil
}

// stop cancels the loop and waits for it to return. Stopping a worker that
// is not running does nothing.
func (w *worker) stop() {
	w.mu.Lock()
	cancel, done := w.cancel, w.done
	w.cancel, w.done = nil, nil
	w.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
}
