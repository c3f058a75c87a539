package openapi

import (
	_ "embed"
	"net/http"
)

// Document is the OpenAPI document (JSON).
//
//go:embed openapi.json
var Document []byte

// Serve answers the document.
func Serve(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(Document) // the client went away; nothing left to tell it
}
