package registry

import (
	"context"
	"sync"
	"time"
)

// EventType names a committed change.
type EventType string

// Event types. Every committed change emits one event per artifact it
// changed; Reset emits one reset event; a subscriber that fell behind gets a
// missed event saying how many it lost.
const (
	EventCreated     EventType = "created"
	EventUpdated     EventType = "updated"
	EventSoftDeleted EventType = "soft-deleted"
	EventDeleted     EventType = "deleted" // hard deleted
	EventRestored    EventType = "restored"
	EventLinked      EventType = "linked"
	EventUnlinked    EventType = "unlinked"
	EventDeployed    EventType = "deployed"
	EventUndeployed  EventType = "undeployed"
	EventReset       EventType = "reset"
	EventMissed      EventType = "missed" // subscriptions only, never in the audit log
)

// Event is one committed change to one artifact.
type Event struct {
	// Seq numbers events from 1 in commit order, without gaps.
	Seq        uint64    `json:"seq"`
	Type       EventType `json:"type"`
	ArtifactID string    `json:"artifactId,omitempty"`
	FQN        string    `json:"fullyQualifiedName,omitempty"`
	Kind       Kind      `json:"kind,omitempty"`
	// Revision is the artifact's revision after the change (before it, for
	// a hard delete).
	Revision  int64     `json:"revision,omitempty"`
	Time      time.Time `json:"time"`
	Principal string    `json:"principal"`
	Reason    string    `json:"reason,omitempty"`
	// Operation is shared by every event of one call.
	Operation string `json:"operation"`
	// Endpoint of a deployed or undeployed event.
	Endpoint string `json:"endpoint,omitempty"`
	// Upstream and Downstream of a linked or unlinked event (ArtifactID is
	// the downstream).
	Upstream   string `json:"upstream,omitempty"`
	Downstream string `json:"downstream,omitempty"`
	// Missed is, on a missed event, how many events the subscriber lost.
	Missed uint64 `json:"missed,omitempty"`
}

// eventLog numbers events, keeps the newest in a ring for Events, and fans
// them out to subscribers without ever blocking the writer.
type eventLog struct {
	mu   sync.RWMutex
	ring []Event
	next uint64 // Seq of the next event
	// oldest is the lowest Seq the ring may hold: 1, or where a loaded
	// snapshot's numbering went on (restart).
	oldest uint64
	subs   map[*Subscription]struct{}
}

// nextSeq returns the Seq the next event will get.
func (l *eventLog) nextSeq() uint64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.next
}

// restart makes numbering go on from next and empties the ring: a registry
// loaded from a snapshot continues its events' sequence, but the events
// themselves are not part of a snapshot.
func (l *eventLog) restart(next uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	clear(l.ring)
	l.next, l.oldest = next, next
}

func newEventLog(size int) *eventLog {
	return &eventLog{ring: make([]Event, size), next: 1, subs: map[*Subscription]struct{}{}}
}

// publish numbers a committed transaction's events and hands them to the
// log and the subscribers; it is called by the writer holding the registry
// lock, after commit. An event is built only if someone will see it: with
// no subscriber, the events of a 100k-artifact delete that the ring cannot
// hold are numbered and skipped.
func (l *eventLog) publish(meta Event, pending []change) {
	if len(pending) == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	keepFrom := len(pending) - len(l.ring)
	for i, p := range pending {
		seq := l.next
		l.next++
		if i < keepFrom && len(l.subs) == 0 {
			continue
		}
		e := meta
		e.Seq, e.Type, e.Endpoint = seq, p.kind, p.endpoint
		if a := p.new; a != nil {
			fqn := p.fqn
			if fqn == "" {
				fqn = a.FQN()
			}
			e.ArtifactID, e.FQN, e.Kind, e.Revision = a.ID, fqn, a.Kind(), a.Revision
		}
		if p.edge != nil {
			e.ArtifactID, e.Upstream, e.Downstream = p.edge.Downstream, p.edge.Upstream, p.edge.Downstream
		}
		l.ring[seq%uint64(len(l.ring))] = e
		for s := range l.subs {
			s.deliver(e)
		}
	}
}

// Events returns up to limit events with Seq greater than after, oldest
// first, from the in-memory audit log (limit 0 means 100, at most 1000). The
// log keeps the newest events only (WithAuditLogSize); a reader that asks
// for events it no longer holds gets the oldest it has and sees the gap in
// Seq.
func (r *Registry) Events(ctx context.Context, after uint64, limit int) ([]Event, error) {
	if _, err := begin(ctx); err != nil {
		return nil, err
	}
	if limit < 0 || limit > maxPageSize {
		return nil, invalid("limit", "limit %d is out of range; want 0 (default %d) to %d", limit, defaultPageSize, maxPageSize)
	}
	if limit == 0 {
		limit = defaultPageSize
	}
	l := r.events
	out := []Event{}
	for len(out) < limit {
		// Copy a window under the log's lock, and ask the authorizer (user
		// code, which may call the registry) only after releasing it.
		window, next, more := l.window(after, limit-len(out))
		for _, e := range window {
			if r.authorizeReads && r.authorizeEvent(ctx, &e) != nil {
				continue
			}
			out = append(out, e)
		}
		if !more || !r.authorizeReads {
			break
		}
		after = next
	}
	return out, nil
}

// window copies up to n events with Seq greater than after, oldest first
// (from the oldest the ring still holds if after is older), and returns
// the Seq of the last one copied and whether newer events remain.
func (l *eventLog) window(after uint64, n int) (events []Event, last uint64, more bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	size := uint64(len(l.ring))
	first := max(1, l.oldest)
	if l.next > size && l.next-size > first {
		first = l.next - size
	}
	if after >= l.next-1 {
		return nil, after, false // nothing newer (and after+1 may overflow)
	}
	if after+1 > first {
		first = after + 1
	}
	seq := first
	for ; seq < l.next && len(events) < n; seq++ {
		events = append(events, l.ring[seq%size])
	}
	return events, seq - 1, seq < l.next
}

// Subscription receives events in commit order on C. A subscriber that does
// not keep up never slows the registry: events that do not fit its buffer
// are dropped and counted, and a missed event saying how many is delivered
// before the next event that fits. (C has one slot more than the buffer,
// kept for that notice.) The registry runs no subscriber code: it never
// blocks on C, a subscriber that never reads only loses events, and Close
// may be called at any time, from any goroutine, even while events are
// being published; the subscriber may call the registry freely.
type Subscription struct {
	// C carries the events. It is closed by Close.
	C      <-chan Event
	c      chan Event
	buffer int
	log    *eventLog
	missed uint64 // guarded by log.mu
	lost   uint64 // total, guarded by log.mu
}

// Subscribe returns a subscription with room for buffer events (at least 1).
func (r *Registry) Subscribe(buffer int) (*Subscription, error) {
	if buffer < 1 || buffer > MaxSubscriptionBuffer {
		return nil, invalid("buffer", "subscription buffer %d is out of range; want 1 to %d", buffer, MaxSubscriptionBuffer)
	}
	c := make(chan Event, buffer+1)
	s := &Subscription{C: c, c: c, buffer: buffer, log: r.events}
	r.events.mu.Lock()
	r.events.subs[s] = struct{}{}
	r.events.mu.Unlock()
	return s, nil
}

// deliver never blocks: it runs under log.mu and is the channel's only
// sender, so room it sees cannot vanish before it sends. Events use at most
// buffer slots; the extra slot holds the missed notice, which goes out only
// together with the event that follows it.
func (s *Subscription) deliver(e Event) {
	free := cap(s.c) - len(s.c)
	switch {
	case s.missed == 0 && len(s.c) < s.buffer:
		s.c <- e
	case s.missed > 0 && free >= 2:
		s.c <- Event{Type: EventMissed, Missed: s.missed, Time: e.Time}
		s.c <- e
		s.missed = 0
	default:
		s.missed++
		s.lost++
	}
}

// Lost returns how many events this subscription has dropped in all.
func (s *Subscription) Lost() uint64 {
	s.log.mu.RLock()
	defer s.log.mu.RUnlock()
	return s.lost
}

// Close stops the subscription and closes C. It is safe to call twice.
func (s *Subscription) Close() {
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	if _, ok := s.log.subs[s]; ok {
		delete(s.log.subs, s)
		close(s.c)
	}
}

// EventSpan returns the Seq of the oldest event the audit log still holds
// and the Seq the next event will get; oldest equals next when the log holds
// none. A reader that resumes after position p has lost oldest-p-1 events
// when p+1 < oldest, and names a position the registry never reached (a
// registry of another process, say) when p >= next.
func (r *Registry) EventSpan() (oldest, next uint64) {
	l := r.events
	l.mu.RLock()
	defer l.mu.RUnlock()
	size := uint64(len(l.ring))
	oldest = 1
	if l.next > size {
		oldest = l.next - size
	}
	return oldest, l.next
}

// Visible reports whether the principal of ctx may see e, as Events
// decides: every event without WithReadAuthorization; with it, an event
// about an artifact the principal may read (and, for an edge, whose
// upstream it may read too), and an event about no artifact (reset, missed)
// only with ActionAdmin. A Subscription sees every event: a server that
// relays one to a principal filters it with Visible.
func (r *Registry) Visible(ctx context.Context, e Event) bool {
	if !r.authorizeReads || r.authz == nil {
		return true
	}
	return r.authorizeEvent(ctx, &e) == nil
}
