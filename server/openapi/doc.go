// Package openapi holds irego's OpenAPI 3.1 document: every endpoint irego
// serve answers, with each API's error envelope and the top-level shape of
// its answers. The server serves it at /api/irego/openapi.json; the tests
// check every response they receive against it (package internal/openapitest), so
// it cannot drift from the handlers.
package openapi
