package api

import (
	"errors"
	"net/http"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/store"
)

// StoreError is the reply to a store failure: 507 Insufficient Storage
// while the disk is too full to write (reads go on, and the write succeeds
// once space is freed), 503 while the rules are being changed (the server
// adds Retry-After), 500 otherwise.
func StoreError(err error) *Error {
	if errors.Is(err, engine.ErrRulesChanging) {
		return &Error{Status: http.StatusServiceUnavailable, Message: "Rules are being changed", Detail: err.Error()}
	}
	if errors.Is(err, store.ErrNoSpace) {
		return &Error{Status: http.StatusInsufficientStorage, Message: "Insufficient Storage",
			Detail: err.Error() + "; nothing of this request was stored, send it again once space is freed"}
	}
	return &Error{Status: http.StatusInternalServerError, Message: "Internal server error", Detail: err.Error()}
}
