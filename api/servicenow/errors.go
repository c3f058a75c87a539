package servicenow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/irego/irego/api"
	"github.com/irego/irego/engine"
	"github.com/irego/irego/store"
)

// writeError renders e in ServiceNow's envelope, in XML when the client
// prefers it; a 503 also says when to try again.
func writeError(w http.ResponseWriter, r *http.Request, e *api.Error) {
	if e.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	if wantsXML(r.Header.Get("Accept")) {
		api.NoteError(r, e)
		writeXMLError(w, e)
		return
	}
	api.WriteError(w, r, e)
}

// engineError maps a failure of the engine (never a fault in the payload,
// which the engine reports per item) to a reply.
func engineError(err error) *api.Error {
	switch {
	case errors.Is(err, engine.ErrTooManyConflicts):
		return &api.Error{Status: http.StatusServiceUnavailable, Message: "Too many concurrent writes",
			Detail: "the payload kept colliding with concurrent writes to the same CIs; send it again"}
	case errors.Is(err, store.ErrTxnTooBig):
		return &api.Error{Status: http.StatusRequestEntityTooLarge, Message: "Payload too large for one transaction", Detail: err.Error()}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &api.Error{Status: http.StatusServiceUnavailable, Message: "Request abandoned", Detail: err.Error()}
	}
	return api.StoreError(err)
}

// badBody is the reply to a body that cannot be read as the API's input.
func badBody(err error) *api.Error {
	return &api.Error{Status: http.StatusBadRequest, Message: "Exception while reading request", Detail: err.Error()}
}

// syntaxError gives a JSON syntax error the line and column it happened at.
func syntaxError(b []byte, err error) error {
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return err
	}
	line, col := 1, 1
	for _, c := range b[:min(int(se.Offset), len(b))] {
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return fmt.Errorf("line %d, column %d: %v", line, col, err)
}
