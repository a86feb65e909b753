package registry

import "time"

// Clock tells the time; WithClock replaces the system clock so that tests
// can move time.
//
// The registry reads the clock once per write call (and once per round of
// cleaning), before it takes any lock, so Now may do anything, including
// calling the registry. Calls that wait for one another's lock may
// therefore record times out of commit order by as long as they waited. A
// Now that panics fails the call with an error (HTTPStatus 500) that says
// so; the call changes nothing, a cleaning round cleans nothing, and the
// registry stays usable.
type Clock interface{ Now() time.Time }

// ClockFunc adapts a function to Clock.
type ClockFunc func() time.Time

// Now calls f.
func (f ClockFunc) Now() time.Time { return f() }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }
