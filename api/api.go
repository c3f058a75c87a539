package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/irego/irego/auth"
)

// Route is one endpoint of an adapter.
type Route struct {
	// Method and Path form a net/http pattern, e.g. "GET" and
	// "/api/now/table/{class}".
	Method, Path string
	// Roles are the roles that may call the route (any one suffices; the
	// admin role always does). Empty means any authenticated user.
	Roles []string
	// Public routes need no credentials at all.
	Public  bool
	Handler http.HandlerFunc
}

// Group is one adapter: its routes and how its API renders errors.
type Group struct {
	Name   string
	Routes []Route
	// WriteError renders an error in the API's own shape; the server uses
	// it for authentication failures and oversized bodies. Nil means
	// WriteError.
	WriteError func(http.ResponseWriter, *http.Request, *Error)
	// Auth is how the server authenticates callers of the group's routes;
	// the zero value is HTTP Basic.
	Auth AuthScheme
	// Run, when not nil, is background work of the adapter (scheduled
	// imports, say). Server.Serve runs it beside the listener and waits for
	// it to return once its context ends.
	Run func(ctx context.Context, log *slog.Logger)
}

// AuthScheme says how callers prove who they are.
type AuthScheme int

const (
	// AuthBasic is HTTP Basic: user name and password on every request.
	AuthBasic AuthScheme = iota
	// AuthToken is License Metric Tool's API token: the Token header, or
	// token= in the URL while the setting api_token_in_url_enabled is
	// true (the header wins when both are given).
	AuthToken
)

// Roles returns every role the group's routes accept, sorted.
func (g Group) Roles() []string {
	var out []string
	for _, r := range g.Routes {
		out = append(out, r.Roles...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Error is an error with the HTTP status an API answers it with.
type Error struct {
	Status  int
	Message string // short: what went wrong
	Detail  string // why, and what to do about it; may be empty
	// RetryAfter, when positive, is sent as the Retry-After header
	// (seconds) by the server's authentication step.
	RetryAfter int
}

// Error returns the message and, when there is one, the detail.
func (e *Error) Error() string {
	if e.Detail == "" {
		return e.Message
	}
	return e.Message + ": " + e.Detail
}

// Errorf makes an Error whose detail is formatted.
func Errorf(status int, message, format string, args ...any) *Error {
	return &Error{Status: status, Message: message, Detail: fmt.Sprintf(format, args...)}
}

// WriteError renders e in ServiceNow's REST error envelope, which irego's
// own endpoints use too:
//
//	{"error": {"message": "...", "detail": "..."}, "status": "failure"}
func WriteError(w http.ResponseWriter, r *http.Request, e *Error) {
	NoteError(r, e)
	type body struct {
		Message string  `json:"message"`
		Detail  *string `json:"detail"`
	}
	if e.Status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "1")
	}
	b := body{Message: e.Message}
	if e.Detail != "" {
		b.Detail = &e.Detail
	}
	WriteJSON(w, e.Status, map[string]any{"error": b, "status": "failure"})
}

// WriteJSON writes v as the JSON reply with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client went away; nothing left to tell it
}

// replyBuffers are the buffers WriteAppendedJSON reuses: an
// identify/reconcile answer is several kB, written thousands of times a
// second.
var replyBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// WriteAppendedJSON writes the JSON reply appendJSON appends to a buffer,
// with the newline WriteJSON's encoder ends it with. For hot replies that
// encode themselves (engine.Result.AppendJSON).
func WriteAppendedJSON(w http.ResponseWriter, status int, appendJSON func([]byte) []byte) {
	bp := replyBuffers.Get().(*[]byte)
	b := append(appendJSON((*bp)[:0]), '\n')
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	// With its length known, the reply goes out in one piece, not chunked.
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b) // the client went away; nothing left to tell it
	// An outsized reply's buffer is not kept.
	if cap(b) <= 1<<20 {
		*bp = b
		replyBuffers.Put(bp)
	}
}

// ErrBusy is what a request body reads when the server holds as many
// request bytes as it may; ReadBody answers it 503.
var ErrBusy = errors.New("the server holds as many request bytes as it may; try again shortly")

// ReadBody reads the whole request body. A body over the server's limit
// is a 413 Error, one sent too slowly a 408, one the server has no room
// for now a 503, one that cannot be read a 400.
func ReadBody(r *http.Request) ([]byte, *Error) {
	b, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, TooLarge(tooBig.Limit)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return nil, Errorf(http.StatusRequestTimeout, "Request timeout", "the request body arrived too slowly; the server waits a few seconds between reads (irego serve --read-idle, --body-timeout)")
	case errors.Is(err, ErrBusy):
		return nil, Busy()
	case err != nil:
		return nil, Errorf(http.StatusBadRequest, "Exception while reading request", "cannot read the request body: %v", err)
	}
	return b, nil
}

// Throttled is the 429 Error for a sign-in refused by auth's throttle, or
// nil when err is not one.
func Throttled(err error) *Error {
	var te *auth.ThrottledError
	if !errors.As(err, &te) {
		return nil
	}
	return &Error{Status: http.StatusTooManyRequests, Message: "Too many failed sign-ins", Detail: strings.TrimPrefix(te.Error(), "auth: "),
		RetryAfter: int(max(te.Retry.Round(time.Second), time.Second) / time.Second)}
}

// Busy is the 503 Error for a request the server has no room for now; the
// server's error writers add Retry-After to every 503.
func Busy() *Error {
	return &Error{Status: http.StatusServiceUnavailable, Message: "Server busy", Detail: ErrBusy.Error()}
}

// TooLarge is the 413 Error for a body over limit bytes.
func TooLarge(limit int64) *Error {
	return Errorf(http.StatusRequestEntityTooLarge, "Request body too large",
		"the request body is larger than the server's limit of %d bytes; split the payload, or raise the limit with irego serve --max-body", limit)
}
