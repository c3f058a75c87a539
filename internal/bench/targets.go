package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

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

func (t *HTTP) post(ctx context.Context, p *payload.Payload) error {
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	u := t.BaseURL + "/api/now/identifyreconcile?sysparm_data_source=" + url.QueryEscape(t.Source)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
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
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(b))
	}
	var out struct {
		Result struct {
			HasError bool `json:"hasError"`
		} `json:"result"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Errorf("reading the answer: %w", err)
	}
	if out.Result.HasError {
		return fmt.Errorf("payload failed: %.300s", b)
	}
	return nil
}
