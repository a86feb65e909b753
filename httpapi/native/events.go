package native

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/modelreg/registry"
)

// dropped is the data of an `event: dropped`.
type dropped struct {
	After     uint64 `json:"after"`
	Oldest    uint64 `json:"oldest"`
	Dropped   uint64 `json:"dropped"`
	Restarted bool   `json:"restarted,omitempty"`
}

// stream writes Server-Sent Events.
type stream struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func (s *stream) send(id uint64, event string, data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	msg := "event: " + event + "\ndata: " + string(b) + "\n\n"
	if id != 0 {
		msg = "id: " + strconv.FormatUint(id, 10) + "\n" + msg
	}
	if _, err := s.w.Write([]byte(msg)); err != nil {
		return err
	}
	return s.rc.Flush()
}

func (s *stream) comment(text string) error {
	if _, err := s.w.Write([]byte(": " + text + "\n\n")); err != nil {
		return err
	}
	return s.rc.Flush()
}

// position reads where the client resumes: Last-Event-ID, else ?after=.
func position(r *http.Request, p params) (after uint64, given bool, err error) {
	if v := r.Header.Values("Last-Event-ID"); len(v) > 0 {
		n, err := strconv.ParseUint(v[0], 10, 64)
		if len(v) > 1 || err != nil {
			return 0, false, invalid("Last-Event-ID", fmt.Sprintf("Last-Event-ID must be one event id (a whole number), not %q", clip(v[0])))
		}
		return n, true, nil
	}
	if p.has("after") {
		n, err := strconv.ParseUint(p.str("after"), 10, 64)
		if err != nil {
			return 0, false, invalid("after", fmt.Sprintf("after must be an event id (a whole number), not %q", clip(p.str("after"))))
		}
		return n, true, nil
	}
	return 0, false, nil
}

func (h *handler) events(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	p, ok := h.query(w, r, "after")
	if !ok {
		return
	}
	after, given, err := position(r, p)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	// Subscribe before reading the log, so that nothing committed between
	// the two is missed; the replay's events are skipped when they come
	// live.
	sub, err := h.Registry.Subscribe(h.EventBuffer)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	defer sub.Close()
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's write timeout
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return // the headers of a stream, without the stream
	}
	s := &stream{w: w, rc: rc}
	if err := s.comment("registry events"); err != nil {
		return
	}

	oldest, next := h.Registry.EventSpan()
	switch {
	case given && after >= next:
		// A position this registry never reached: another process's.
		if s.send(0, "dropped", dropped{After: after, Oldest: oldest, Restarted: true}) != nil {
			return
		}
		after = 0
	case given && after+1 < oldest:
		if s.send(0, "dropped", dropped{After: after, Oldest: oldest, Dropped: oldest - after - 1}) != nil {
			return
		}
	}
	last := after
	// catchUp sends what the audit log holds after last. A gap between
	// last and the oldest event held is reported as missed.
	catchUp := func(report bool) error {
		if report {
			if oldest, _ := h.Registry.EventSpan(); last+1 < oldest {
				lost := oldest - last - 1
				h.dropped.Add(float64(lost))
				if err := s.send(0, string(registry.EventMissed), registry.Event{Type: registry.EventMissed, Missed: lost, Time: time.Now().UTC()}); err != nil {
					return err
				}
				last = oldest - 1
			}
		}
		for {
			evs, err := h.Registry.Events(ctx, last, 1000)
			if err != nil {
				return err
			}
			for _, e := range evs {
				if err := s.send(e.Seq, string(e.Type), e); err != nil {
					return err
				}
				last = e.Seq
			}
			if len(evs) < 1000 {
				_, next := h.Registry.EventSpan()
				if next > 0 && last < next-1 {
					last = next - 1 // events after last that the principal may not read
				}
				return nil
			}
		}
	}
	if catchUp(false) != nil {
		return
	}
	beat := time.NewTicker(h.Heartbeat)
	defer beat.Stop()
	// The subscription says it lost events only before the next event
	// that fits, which may be long in coming: the stream looks at its
	// count of lost events too, after each event and twice a second.
	lag := time.NewTicker(lagCheck)
	defer lag.Stop()
	lostSeen := uint64(0)
	behind := func() bool {
		n := sub.Lost()
		if n == lostSeen {
			return false
		}
		lostSeen = n
		return true
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-beat.C:
			if s.comment("heartbeat") != nil {
				return
			}
		case <-lag.C:
			if behind() && catchUp(true) != nil {
				return
			}
		case e, ok := <-sub.C:
			if !ok {
				return
			}
			if e.Type == registry.EventMissed {
				// Fell behind: the audit log may still hold what was lost.
				behind()
				if catchUp(true) != nil {
					return
				}
				continue
			}
			if e.Seq <= last || !h.Registry.Visible(ctx, e) {
				continue
			}
			if s.send(e.Seq, string(e.Type), e) != nil {
				return
			}
			last = e.Seq
			if behind() && catchUp(true) != nil {
				return
			}
		}
	}
}

// lagCheck is how often a stream looks whether its subscription lost
// events.
const lagCheck = 500 * time.Millisecond
