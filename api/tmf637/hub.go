package tmf637

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/irego/irego/engine"
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

// delivery is one event on its way to one listener.
type delivery struct {
	url     string
	body    []byte
	attempt int
}

// hub keeps the subscriptions and delivers events to them in the
// background: a bounded queue, a few workers that exist only while there is
// work, and retries with a doubling back-off. Publishing never waits; when
// the queue is full the event is dropped and logged.
type hub struct {
	st   store.Store
	opts Options

	mu     sync.Mutex
	subs   []subscription
	loaded bool

	queue  chan delivery
	active atomic.Int32 // workers running
}

func newHub(st store.Store, o Options) *hub {
	return &hub{st: st, opts: o, queue: make(chan delivery, o.QueueSize)}
}

// list returns the subscriptions, read from the store on first use.
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
	}
	return slices.Clone(h.subs), nil
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
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := setKey(h.st, store.HubKey(s.ID), b); err != nil {
		return subscription{}, err
	}
	h.subs = append(h.subs, s)
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
	if err := setKey(h.st, store.HubKey(id), nil); err != nil {
		return false, err
	}
	h.subs = slices.Delete(h.subs, i, i+1)
	return true, nil
}

// setKey writes (or, with a nil value, deletes) one key.
func setKey(st store.Store, k, v []byte) error {
	txn := st.NewTxn()
	defer txn.Discard()
	var err error
	if v == nil {
		err = txn.Delete(k)
	} else {
		err = txn.Set(k, v)
	}
	if err != nil {
		return err
	}
	return txn.Commit()
}

// publish queues the event for every subscription that wants it, and
// returns at once.
func (h *hub) publish(eventType string, product map[string]any) {
	subs, err := h.list()
	if err != nil {
		h.opts.Logger.Error("tmf637: reading event subscriptions", "err", err)
		return
	}
	var body []byte
	for _, s := range subs {
		if !s.wants(eventType) {
			continue
		}
		if body == nil {
			now := time.Now().UTC().Format(time.RFC3339Nano)
			if body, err = json.Marshal(map[string]any{"eventId": engine.NewSysID(), "eventTime": now,
				"eventType": eventType, "event": map[string]any{"product": product}}); err != nil {
				h.opts.Logger.Error("tmf637: encoding an event", "event", eventType, "err", err)
				return
			}
		}
		h.enqueue(delivery{url: listenerURL(s.Callback, eventType), body: body, attempt: 1})
	}
}

// listenerURL is where a listener takes an event type: TMF637's client
// side, {callback}/listener/productCreateEvent and so on.
func listenerURL(callback, eventType string) string {
	return strings.TrimSuffix(callback, "/") + "/listener/" + strings.ToLower(eventType[:1]) + eventType[1:]
}

func (h *hub) enqueue(d delivery) {
	select {
	case h.queue <- d:
	default:
		h.opts.Logger.Warn("tmf637: event queue full; event dropped", "url", d.url, "queue", cap(h.queue))
		h.opts.Observer.Delivery(Dropped, nil)
		return
	}
	if h.active.Add(1) <= int32(h.opts.Workers) {
		go h.work()
	} else {
		h.active.Add(-1)
	}
}

// work delivers queued events until the queue is empty. An event queued
// while the last worker was leaving started no worker (it still counted as
// active), so a leaving worker looks once more and stays for it.
func (h *hub) work() {
	for {
		select {
		case d := <-h.queue:
			h.deliver(d)
			continue
		default:
		}
		h.active.Add(-1)
		if len(h.queue) == 0 {
			return
		}
		if h.active.Add(1) > int32(h.opts.Workers) {
			h.active.Add(-1)
			return
		}
	}
}

func (h *hub) deliver(d delivery) {
	err := h.post(d)
	if err == nil {
		h.opts.Observer.Delivery(Delivered, nil)
		return
	}
	if d.attempt >= h.opts.Retries {
		h.opts.Logger.Warn("tmf637: event not delivered; giving up", "url", d.url, "attempts", d.attempt, "err", err)
		h.opts.Observer.Delivery(GaveUp, err)
		return
	}
	h.opts.Observer.Delivery(Retrying, err)
	wait := h.opts.Backoff << (d.attempt - 1)
	d.attempt++
	time.AfterFunc(wait, func() { h.enqueue(d) })
}

func (h *hub) post(d delivery) error {
	req, err := http.NewRequest(http.MethodPost, d.url, bytes.NewReader(d.body))
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
