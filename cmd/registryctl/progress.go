package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"golang.org/x/term"
)

// isTerminal reports whether the stream is a terminal.
func isTerminal(s any) bool {
	f, ok := s.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progressTick is how often the spinner moves.
const progressTick = 100 * time.Millisecond

// withProgress runs fn; while it runs, when stderr is a terminal, a
// spinner with the elapsed time turns on stderr, erased when fn returns.
// When stderr is not a terminal (piped, redirected) nothing is written.
func (a *app) withProgress(ctx context.Context, what string, fn func(context.Context) error) error {
	if !a.isTerminal(a.err) {
		return fn(ctx)
	}
	stop := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		frames := []rune("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏")
		start := time.Now()
		t := time.NewTicker(progressTick)
		defer t.Stop()
		for i := 0; ; i++ {
			fmt.Fprintf(a.err, "\r%c %s… %.1fs", frames[i%len(frames)], what, time.Since(start).Seconds())
			select {
			case <-stop:
				fmt.Fprint(a.err, "\r\033[K")
				return
			case <-t.C:
			}
		}
	}()
	err := fn(ctx)
	close(stop)
	<-stopped
	return err
}
