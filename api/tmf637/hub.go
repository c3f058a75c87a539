package tmf637

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/identify"
	"github.com/irego/irego/store"
)

// The events a hub delivers.
const (
	createEvent = "ProductCreateEvent"
	changeEvent = "ProductAttributeValueChangeEvent"
	stateEvent  = "ProductStateChangeEvent"
	deleteEvent = "ProductDeleteEvent"
)

var eventTypes = []string{createEvent, changeEvent, stateEvent, deleteEvent}

// subscription is a registered listener, TMF637's EventSubscription. It
// lives in the store, so it outlives a restart.
type subscription struct {
	ID       string `json:"id"`
	Callback string `json:"callback"`
	Query    string `json:"query,omitempty"`
}

// wants reports whether the subscription's query selects the event type:
// an empty query selects every event, "eventType=A,B" those named.
func (s *subscription) wants(eventType string) bool {
	types, _ := queryTypes(s.Query)
	return types == nil || slices.Contains(types, eventType)
}

// queryTypes reads a subscription query: eventType=A[,B...], the key
// repeatable; nil types means every event.
func queryTypes(query string) ([]string, error) {
	if strings.TrimSpace(query) == "" {
		return nil, nil
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil, err
	}
	var types []string
	for k, vs := range q {
		if k != "eventType" {
			return nil, fmt.Errorf("unknown query key %q; only eventType is supported, e.g. eventType=%s", k, createEvent)
		}
		for _, v := range vs {
			for _, t := range strings.Split(v, ",") {
				if t = strings.TrimSpace(t); !slices.Contains(eventTypes, t) {
					return nil, fmt.Errorf("unknown event type %q; use %s", t, strings.Join(eventTypes, ", "))
				}
				types = append(types, t)
			}
		}
	}
	return types, nil
}

// hub keeps the subscriptions and serves each from the engine's change
// events (the outbox): one goroutine per subscription reads the events
// after the last one it acknowledged, posts the product events they make
// to the listener in commit order, retrying with a doubling back-off
// until the listener takes them, and stores how far it got. So events are
// delivered at least once, in order, also across restarts, and a slow or
// dead listener holds up only its own subscription, never a write.
type hub struct {
	e    *engine.Engine
	st   store.Store
	opts Options
	// ctx ends when the engine closes; it ends every follower.
	ctx context.Context

	mu        sync.Mutex
	subs      []subscription
	followers map[string]context.CancelFunc
	loaded    bool
}

func newHub(e *engine.Engine, o Options) *hub {
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-e.Done(); cancel() }()
	h := &hub{e: e, st: e.Store(), opts: o, ctx: ctx, followers: map[string]context.CancelFunc{}}
	if _, err := h.list(); err != nil {
		o.Logger.Error("tmf637: reading event subscriptions", "err", err)
	}
	return h
}

// list returns the subscriptions, read from the store (and their
// followers started) on first use.
func (h *hub) list() ([]subscription, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.loaded {
		var subs []subscription
		err := h.st.View(func(r store.Reader) error {
			return r.Iterate(store.HubPrefix(), func(_, v []byte) error {
				var s subscription
				if err := json.Unmarshal(v, &s); err != nil {
					return fmt.Errorf("tmf637: corrupt subscription: %w", err)
				}
				subs = append(subs, s)
				return nil
			})
		})
		if err != nil {
			return nil, err
		}
		h.subs, h.loaded = subs, true
		for _, s := range subs {
			h.start(s)
		}
	}
	return slices.Clone(h.subs), nil
}

// start runs the follower of s; h.mu is held.
func (h *hub) start(s subscription) {
	ctx, cancel := context.WithCancel(h.ctx)
	h.followers[s.ID] = cancel
	go h.follow(ctx, s)
}

func (h *hub) register(callback, query string) (subscription, error) {
	u, err := url.Parse(callback)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return subscription{}, badField("callback", "%q is not an absolute http or https URL", callback)
	}
	if err := h.opts.guard().checkURL(u.Hostname()); err != nil {
		return subscription{}, badField("callback", "%v", err)
	}
	if _, err := queryTypes(query); err != nil {
		return subscription{}, badField("query", "%v", err)
	}
	if _, err := h.list(); err != nil {
		return subscription{}, err
	}
	s := subscription{ID: engine.NewSysID(), Callback: callback, Query: query}
	b, err := json.Marshal(s)
	if err != nil {
		return subscription{}, err
	}
	// The listener hears of changes committed after it registered: its
	// cursor starts at the last event numbered.
	last, err := h.e.LastEvent(h.ctx)
	if err != nil {
		return subscription{}, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.write(func(txn store.Txn) error {
		if err := txn.Set(store.HubCursorKey(s.ID), binary.BigEndian.AppendUint64(nil, last)); err != nil {
			return err
		}
		return txn.Set(store.HubKey(s.ID), b)
	}); err != nil {
		return subscription{}, err
	}
	h.subs = append(h.subs, s)
	h.start(s)
	return s, nil
}

// unregister removes a subscription; false when there is none with the id.
func (h *hub) unregister(id string) (bool, error) {
	if _, err := h.list(); err != nil {
		return false, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	i := slices.IndexFunc(h.subs, func(s subscription) bool { return s.ID == id })
	if i < 0 {
		return false, nil
	}
	if cancel := h.followers[id]; cancel != nil {
		cancel()
		delete(h.followers, id)
	}
	if err := h.write(func(txn store.Txn) error {
		if err := txn.Delete(store.HubCursorKey(id)); err != nil {
			return err
		}
		return txn.Delete(store.HubKey(id))
	}); err != nil {
		return false, err
	}
	h.subs = slices.Delete(h.subs, i, i+1)
	return true, nil
}

// write runs fn in one transaction and commits it.
func (h *hub) write(fn func(store.Txn) error) error {
	txn := h.st.NewTxn()
	defer txn.Discard()
	if err := fn(txn); err != nil {
		return err
	}
	return txn.Commit()
}

// cursor reads the last event a subscription acknowledged.
func (h *hub) cursor(id string) (uint64, error) {
	var at uint64
	err := h.st.View(func(r store.Reader) error {
		b, err := r.Get(store.HubCursorKey(id))
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if len(b) != 8 {
			return fmt.Errorf("tmf637: cursor of subscription %s holds %d bytes, want 8", id, len(b))
		}
		at = binary.BigEndian.Uint64(b)
		return nil
	})
	return at, err
}

// follow delivers the events of s until ctx ends. It holds the engine
// open while it reads or writes the store, not while it posts or waits.
func (h *hub) follow(ctx context.Context, s subscription) {
	log := h.opts.Logger.With("subscription", s.ID)
	held := func(fn func()) bool {
		release, ok := h.e.Hold()
		if !ok {
			return false
		}
		defer release()
		fn()
		return true
	}
	var at uint64
	for {
		var err error
		if !held(func() { at, err = h.cursor(s.ID) }) {
			return
		}
		if err == nil {
			break
		}
		log.Error("tmf637: reading a subscription's cursor", "err", err)
		if !sleep(ctx, h.opts.MaxBackoff) {
			return
		}
	}
	for ctx.Err() == nil {
		wake := h.e.EventsWake()
		var err error
		var batch [][]notification // per commit
		var ends []uint64          // the last event number of each commit
		if !held(func() {
			var evs []engine.Event
			if evs, err = h.e.ReadEvents(ctx, at+1, eventBatch); err != nil {
				return
			}
			for _, commit := range commits(evs, len(evs) == eventBatch) {
				batch = append(batch, h.notifications(ctx, commit))
				ends = append(ends, commit[len(commit)-1].Seq)
			}
		}) {
			return
		}
		if err != nil {
			if ctx.Err() == nil {
				log.Error("tmf637: reading change events", "err", err)
				sleep(ctx, h.opts.MaxBackoff)
			}
			continue
		}
		if len(batch) == 0 {
			h.e.WaitEvents(ctx, wake)
			continue
		}
		for i, ns := range batch {
			for _, n := range ns {
				if s.wants(n.eventType) && !h.deliver(ctx, log, s, n) {
					return
				}
			}
			at = ends[i]
			if !held(func() {
				err = h.write(func(txn store.Txn) error {
					return txn.Set(store.HubCursorKey(s.ID), binary.BigEndian.AppendUint64(nil, at))
				})
			}) {
				return
			}
			if err != nil && ctx.Err() == nil {
				// Delivered again after a restart: at least once.
				log.Warn("tmf637: storing a subscription's cursor", "err", err)
			}
		}
	}
}

// eventBatch is how many events a follower reads at once.
const eventBatch = 256

// commits splits events into the groups committed together. When more
// may follow (full), the last group may be cut short and is left for the
// next read, unless it is the only one.
func commits(evs []engine.Event, full bool) [][]engine.Event {
	var out [][]engine.Event
	for i := 0; i < len(evs); {
		j := i + 1
		for j < len(evs) && evs[j].Commit == evs[i].Commit {
			j++
		}
		out = append(out, evs[i:j])
		i = j
	}
	if full && len(out) > 1 {
		out = out[:len(out)-1]
	}
	return out
}

// notification is one TMF637 event for listeners.
type notification struct {
	eventType string
	body      []byte
}

// notifications are the product events of one commit, in the order of its
// events: a create event for a new product, a delete event for a deleted
// one, and for a changed one a state change event when its state changed
// and an attribute value change event when anything else did (its other
// attributes, characteristics or relations). A product changed by any
// path, the identification API included, is notified.
func (h *hub) notifications(ctx context.Context, commit []engine.Event) []notification {
	var out []notification
	for _, ev := range commit {
		c, ok := h.e.Rules().Class(ev.Class)
		if !ok || !c.IsA(productClass) {
			continue
		}
		var types []string
		switch ev.Op {
		case identify.OpInsert:
			types = []string{createEvent}
		case engine.OpDelete:
			types = []string{deleteEvent}
		default:
			if _, ok := ev.Attributes[aState]; ok {
				types = append(types, stateEvent)
			}
			if len(ev.Attributes) > len(types) || len(ev.Relations)+len(ev.RelatedRecords) > 0 || ev.ClassBefore != "" {
				types = append(types, changeEvent)
			}
		}
		product := h.render(ctx, ev)
		for _, t := range types {
			body, err := json.Marshal(map[string]any{"eventId": fmt.Sprintf("%d-%s", ev.Seq, t), "eventTime": ev.At.Format(time.RFC3339Nano),
				"eventType": t, "event": map[string]any{"product": product}})
			if err != nil {
				h.opts.Logger.Error("tmf637: encoding an event", "event", t, "err", err)
				continue
			}
			out = append(out, notification{eventType: t, body: body})
		}
	}
	return out
}

// render shows the product an event tells of: its attributes exactly as
// the change left them (before it, for a delete), with the
// characteristics and relations it has now.
func (h *hub) render(ctx context.Context, ev engine.Event) map[string]any {
	v := &view{ci: &engine.CI{SysID: ev.SysID, Class: ev.Class}}
	if ev.Op != engine.OpDelete {
		if now, err := (&handler{e: h.e}).load(ctx, ev.SysID); err == nil {
			v = now
		}
	}
	ci := *v.ci
	ci.Values = ev.Values
	v.ci = &ci
	return v.tmf(h.opts.BaseURL)
}

// deliver posts n until the listener takes it; false when ctx ended first.
func (h *hub) deliver(ctx context.Context, log *slog.Logger, s subscription, n notification) bool {
	wait := h.opts.Backoff
	for attempt := 1; ; attempt++ {
		err := h.post(ctx, listenerURL(s.Callback, n.eventType), n.body)
		if err == nil {
			h.opts.Observer.Delivery(Delivered, nil)
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		h.opts.Observer.Delivery(Retrying, err)
		log.Warn("tmf637: event not delivered; trying again", "event", n.eventType, "attempt", attempt, "retry_in", wait, "err", err)
		if !sleep(ctx, wait) {
			return false
		}
		wait = min(2*wait, h.opts.MaxBackoff)
	}
}

// sleep waits d or until ctx ends; false when ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// listenerURL is where a listener takes an event type: TMF637's client
// side, {callback}/listener/productCreateEvent and so on.
func listenerURL(callback, eventType string) string {
	return strings.TrimSuffix(callback, "/") + "/listener/" + strings.ToLower(eventType[:1]) + eventType[1:]
}

func (h *hub) post(ctx context.Context, url string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.opts.Client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return &StatusError{Status: resp.StatusCode}
	}
	return nil
}
