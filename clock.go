package registry

import "time"

// Clock tells the time; WithClock replaces the system clock so that tests
// can move time.
//
// The registry reads the clock once per write call (and once per round of
// cleaning), before it takes any lock, so Now may do anything, including
// calling the registry. A call that waited for another's lock, or a clock
// that went back, could then record a time before the previous write's:
// the registry records the later of the two instead, so that recorded times
// never go backwards in commit order (an artifact is never updated before it
// was created, nor deleted before its last update). A Now that panics fails the call with an error (HTTPStatus 500) that says
// so; the call changes nothing, a cleaning round cleans nothing, and the
// registry stays usable.
type Clock interface{ Now() time.Time }

// ClockFunc adapts a function to Clock.
type ClockFunc func() time.Time

// Now calls f.
func (f ClockFunc) Now() time.Time { return f() }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }
