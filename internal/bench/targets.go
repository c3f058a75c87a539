package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/payload"
)

// InProc applies payloads through an embedded engine: a batch of several
// payloads in one transaction (engine.ApplyBatch).
type InProc struct {
	Engine  *engine.Engine
	Source  string
	Options engine.ApplyOptions
}

// Send applies the batch in this process, as one ApplyBatch call.
func (t *InProc) Send(ctx context.Context, batch []*payload.Payload) error {
	var results []*engine.Result
	if len(batch) == 1 {
		res, err := t.Engine.Apply(ctx, t.Source, batch[0], t.Options)
		if err != nil {
			return err
		}
		results = []*engine.Result{res}
	} else {
		var err error
		if results, err = t.Engine.ApplyBatch(ctx, t.Source, batch, t.Options); err != nil {
			return err
		}
	}
	for _, res := range results {
		if res.HasError {
			return fmt.Errorf("payload failed: %s", firstError(res))
		}
	}
	return nil
}

func firstError(res *engine.Result) string {
	for _, it := range res.Items {
		for _, is := range it.Errors {
			return is.Code + ": " + is.Message
		}
	}
	return "a relation failed"
}

// HTTP posts payloads, one request each, to a running irego server's
// identify/reconcile endpoint.
type HTTP struct {
	BaseURL, Source, User, Password string
	Client                          *http.Client
}

// Send posts each payload of the batch to the server.
func (t *HTTP) Send(ctx context.Context, batch []*payload.Payload) error {
	for _, p := range batch {
		if err := t.post(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// buffers hold request bodies and answers between requests: allocating
// them anew for every request was a tenth of the load tool's CPU, taken
// from the server it measures on the same machine.
var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func (t *HTTP) post(ctx context.Context, p *payload.Payload) error {
	body, answer := buffers.Get().(*bytes.Buffer), buffers.Get().(*bytes.Buffer)
	body.Reset()
	answer.Reset()
	defer buffers.Put(body)
	defer buffers.Put(answer)
	if err := json.NewEncoder(body).Encode(p); err != nil {
		return err
	}
	u := t.BaseURL + "/api/now/identifyreconcile?sysparm_data_source=" + url.QueryEscape(t.Source)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body.Bytes()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(t.User, t.Password)
	resp, err := t.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := answer.ReadFrom(resp.Body); err != nil {
		return err
	}
	b := answer.Bytes()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(b))
	}
	hasError, err := answerHasError(b)
	if err != nil {
		return fmt.Errorf("reading the answer: %w: %.300s", err, b)
	}
	if hasError {
		return fmt.Errorf("payload failed: %.300s", b)
	}
	return nil
}

// answerHasError reads the result's hasError from an identify/reconcile
// answer without decoding it: decoding took half of the load tool's CPU,
// which it shares with the server it measures. In JSON a quote inside a
// string is escaped, so the bytes `"hasError":` can only be that key, and the
// result is the only object of the answer that has it.
func answerHasError(b []byte) (bool, error) {
	key := []byte(`"hasError":`)
	i := bytes.LastIndex(b, key)
	if i < 0 {
		return false, errors.New("no hasError in the answer")
	}
	rest := bytes.TrimLeft(b[i+len(key):], " \t\r\n")
	switch {
	case bytes.HasPrefix(rest, []byte("false")):
		return false, nil
	case bytes.HasPrefix(rest, []byte("true")):
		return true, nil
	}
	return false, errors.New("hasError is not a boolean")
}
