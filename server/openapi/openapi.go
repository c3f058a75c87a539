// Package openapi holds irego's OpenAPI 3.1 document: every endpoint irego
// serve answers, with each API's error envelope and the top-level shape of
// its answers. The server serves it at /api/irego/openapi.json; the tests
// check every response they receive against it (package openapitest), so
// it cannot drift from the handlers.
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
