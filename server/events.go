package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/irego/irego/api"
	"github.com/irego/irego/engine"
)

// Any program can follow every committed change of a CI (the engine's
// change events, see engine.Event) from a sequence number:
//
//	GET /api/irego/events?from=N[&class=C][&limit=L][&wait=S]
//
// answers {"result": {"events": [...], "next": M}}: the events numbered N
// or later (of class C or a class extending it), at most L (default 100,
// at most 1000), and the number to ask from next. With wait, a request
// that finds none waits up to S seconds (at most 60) for one: a long poll.
// With "Accept: text/event-stream" the reply is a stream of Server-Sent
// Events instead, one per change (id: its number, event: change, data:
// the event), that goes on until the client leaves; Last-Event-ID resumes
// after the event it names.

const (
	eventsDefaultLimit = 100
	eventsMaxLimit     = 1000
	eventsMaxWait      = 60 * time.Second
)

func (s *Server) eventRoutes() []api.Route {
	return []api.Route{{Method: "GET", Path: "/api/irego/events", Roles: ciReadRoles, Handler: s.events}}
}

// eventQuery is a parsed request for events.
type eventQuery struct {
	from  uint64
	class string
	limit int
	wait  time.Duration
}

func (s *Server) parseEventQuery(r *http.Request) (*eventQuery, *api.Error) {
	q := r.URL.Query()
	eq := &eventQuery{limit: eventsDefaultLimit, class: q.Get("class")}
	for name := range q {
		if name != "from" && name != "class" && name != "limit" && name != "wait" {
			return nil, api.Errorf(http.StatusBadRequest, "Invalid query", "unknown parameter %q; use from, class, limit and wait", name)
		}
	}
	if v := q.Get("from"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return nil, api.Errorf(http.StatusBadRequest, "Invalid from", "%q is not an event number (0 or more)", v)
		}
		eq.from = n
	}
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		n, err := strconv.ParseUint(id, 10, 64)
		if err != nil {
			return nil, api.Errorf(http.StatusBadRequest, "Invalid Last-Event-ID", "%q is not an event number", id)
		}
		eq.from = n + 1
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > eventsMaxLimit {
			return nil, api.Errorf(http.StatusBadRequest, "Invalid limit", "%q is not a number from 1 to %d", v, eventsMaxLimit)
		}
		eq.limit = n
	}
	if v := q.Get("wait"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || time.Duration(n)*time.Second > eventsMaxWait {
			return nil, api.Errorf(http.StatusBadRequest, "Invalid wait", "%q is not a number of seconds from 0 to %d", v, int(eventsMaxWait/time.Second))
		}
		eq.wait = time.Duration(n) * time.Second
	}
	if eq.class != "" {
		if _, ok := s.cfg.Engine.Rules().Class(eq.class); !ok {
			return nil, api.Errorf(http.StatusBadRequest, "Invalid class", "the rules have no class %q", eq.class)
		}
	}
	return eq, nil
}

// wants reports whether the query selects ev.
func (s *Server) wants(eq *eventQuery, ev *engine.Event) bool {
	if eq.class == "" {
		return true
	}
	c, ok := s.cfg.Engine.Rules().Class(ev.Class)
	return ok && c.IsA(eq.class)
}

// collect reads the events eq selects from eq.from on, at most eq.limit;
// next is the number to read from after them (past events skipped by the
// class filter too).
func (s *Server) collect(ctx context.Context, eq *eventQuery) (out []engine.Event, next uint64, err error) {
	next = eq.from
	for len(out) < eq.limit {
		evs, err := s.cfg.Engine.ReadEvents(ctx, next, eventsMaxLimit)
		if err != nil || len(evs) == 0 {
			return out, next, err
		}
		for i := range evs {
			if s.wants(eq, &evs[i]) {
				if len(out) == eq.limit {
					return out, next, nil
				}
				out = append(out, evs[i])
			}
			next = evs[i].Seq + 1
		}
	}
	return out, next, nil
}

func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	eq, e := s.parseEventQuery(r)
	if e != nil {
		api.WriteError(w, r, e)
		return
	}
	if strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
		s.streamEvents(w, r, eq)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), eq.wait)
	defer cancel()
	for {
		wake := s.cfg.Engine.EventsWake()
		evs, next, err := s.collect(r.Context(), eq)
		if err != nil {
			s.reply(w, r, nil, err)
			return
		}
		eq.from = next
		if len(evs) > 0 || eq.wait == 0 || !s.cfg.Engine.WaitEvents(ctx, wake) {
			s.reply(w, r, map[string]any{"events": orEmpty(evs), "next": next}, nil)
			return
		}
	}
}

// streamEvents sends the events as Server-Sent Events until the client
// leaves or the server stops.
func (s *Server) streamEvents(w http.ResponseWriter, r *http.Request, eq *eventQuery) {
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() {
		select {
		case <-s.streams.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	for ev, err := range s.cfg.Engine.Events(ctx, eq.from) {
		if err != nil {
			s.cfg.Logger.Error("following change events", "err", err)
			fmt.Fprintf(w, "event: error\ndata: %s\n\n", strconv.Quote(err.Error()))
			return
		}
		if !s.wants(eq, &ev) {
			continue
		}
		b, err := json.Marshal(ev)
		if err != nil {
			return
		}
		if _, err := fmt.Fprintf(w, "id: %d\nevent: change\ndata: %s\n\n", ev.Seq, b); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// streams ends long-lived replies when the server shuts down, which waits
// for every reply to end.
type streams struct {
	done chan struct{}
	once *sync.Once
}

func newStreams() streams { return streams{done: make(chan struct{}), once: &sync.Once{}} }

func (st streams) stop() { st.once.Do(func() { close(st.done) }) }
