// Package openapitest checks HTTP exchanges against irego's OpenAPI
// document, for tests: every response a test server sends must be one the
// document describes for its path, method and status, in shape and
// content type. Requests are not checked, since tests send bad ones on
// purpose.
package openapitest
