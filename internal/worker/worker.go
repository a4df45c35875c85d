// Package worker is the lifecycle the library's background loops share.
package worker

import (
	"context"
	"fmt"
	"sync"
)

// Worker is the lifecycle the library's background loops share (the
// Follower, the Scheduler, the UsageTracker): nothing runs until start,
// and stop cancels the loop and waits for it to return. A stopped worker
// can be started again.
type Worker struct {
	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// Start runs loop in a goroutine with a context that Stop cancels. It
// fails with conflict (the caller's ErrConflict), naming what, if the
// worker is already running.
func (w *Worker) Start(ctx context.Context, conflict error, what string, loop func(context.Context)) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done != nil {
		return fmt.Errorf("%w: %s already started", conflict, what)
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

// Running reports whether the worker has been started and not stopped.
func (w *Worker) Running() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.done != nil
}

// Stop cancels the loop and waits for it to return. Stopping a worker that
// is not running does nothing.
func (w *Worker) Stop() {
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
