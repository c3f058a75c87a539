package api

import (
	"context"
	"net/http"
)

// errorNote is where a request's error reply is noted for the server's
// access log.
type errorNote struct{ e *Error }

type errorNoteKey struct{}

// WithErrorNote returns a context in which the error writers note the
// Error a request is answered with, and a function that returns it (nil
// when none was written). The server's access log uses it so that an error
// is logged with its request.
func WithErrorNote(ctx context.Context) (context.Context, func() *Error) {
	n := &errorNote{}
	return context.WithValue(ctx, errorNoteKey{}, n), func() *Error { return n.e }
}

// NoteError records e as r's error reply. WriteError calls it; an adapter
// that renders errors in a shape of its own calls it too.
func NoteError(r *http.Request, e *Error) {
	if r == nil || e == nil {
		return
	}
	if n, ok := r.Context().Value(errorNoteKey{}).(*errorNote); ok && n.e == nil {
		n.e = e
	}
}
