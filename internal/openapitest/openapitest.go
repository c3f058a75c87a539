package openapitest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	verrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/helpers"

	"github.com/irego/irego/server/openapi"
)

var (
	once    sync.Once
	shared  validator.Validator
	loadErr error
	mu      sync.Mutex // the validator's caches are not documented as safe for concurrent use
)

// Validator is the validator of doc (nil: openapi.Document).
func Validator(doc []byte) (validator.Validator, error) {
	if doc == nil {
		once.Do(func() { shared, loadErr = newValidator(openapi.Document) })
		return shared, loadErr
	}
	return newValidator(doc)
}

func newValidator(doc []byte) (validator.Validator, error) {
	d, err := libopenapi.NewDocument(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi document: %w", err)
	}
	v, errs := validator.NewValidator(d)
	if len(errs) > 0 {
		return nil, fmt.Errorf("openapi document: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		return nil, fmt.Errorf("openapi document is not valid OpenAPI: %s", describe(verrs))
	}
	return v, nil
}

// Check returns the mismatches between the response and what the
// document describes for req; none when it conforms. A path the document
// does not have at all is a mismatch unless undocumentedOK (for tests
// that mount routes of their own; every route irego mounts is checked to
// be documented by this package's tests).
func Check(v validator.Validator, req *http.Request, resp *http.Response, undocumentedOK bool) error {
	mu.Lock()
	ok, errs := v.ValidateHttpResponse(req, resp)
	mu.Unlock()
	if ok {
		return nil
	}
	if undocumentedOK && len(errs) == 1 && errs[0].ValidationType == helpers.PathValidation &&
		(errs[0].ValidationSubType == helpers.ValidationMissing || resp.StatusCode == http.StatusMethodNotAllowed) {
		return nil
	}
	return fmt.Errorf("%s %s → %d: %s", req.Method, req.URL.Path, resp.StatusCode, describe(errs))
}

// Handler wraps next so that every response it sends is checked against
// the document (nil: openapi.Document); a mismatch fails t. Paths the
// document lacks, and methods it does not list that the server refuses
// with 405, are left alone: test routes and probes of wrong methods.
func Handler(t testing.TB, doc []byte, next http.Handler) http.Handler {
	v, err := Validator(doc)
	if err != nil {
		t.Fatal(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		resp := &http.Response{StatusCode: rec.status, Header: w.Header().Clone(),
			Body: io.NopCloser(bytes.NewReader(rec.body.Bytes())), Request: r}
		if err := Check(v, r, resp, true); err != nil {
			t.Errorf("OpenAPI contract: %v\nbody: %.500s", err, rec.body.Bytes())
		}
	})
}

// recorder passes a response through and keeps a copy.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// describe lists validation errors, each with its schema failures.
func describe(errs []*verrors.ValidationError) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "\n  %s: %s", e.Message, e.Reason)
		for _, f := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "\n    at %s: %s", f.FieldPath, f.Reason)
		}
	}
	return b.String()
}
