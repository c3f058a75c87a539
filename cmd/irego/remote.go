package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// remote is a running irego serve the read commands and apply ask instead
// of opening its store (which the server holds), with the user and
// password of IREGO_USER and IREGO_PASSWORD.
type remote struct {
	base, user, password string
	client               *http.Client
}

// errNotFound is a 404 from the server.
var errNotFound = errors.New("not found")

func newRemote(base string) (*remote, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--server %q: want the server's base URL, e.g. http://127.0.0.1:8080", base)
	}
	user := os.Getenv("IREGO_USER")
	if user == "" {
		user = "admin"
	}
	password := os.Getenv("IREGO_PASSWORD")
	if password == "" {
		return nil, errors.New("--server needs credentials: set IREGO_PASSWORD (and IREGO_USER, default admin)")
	}
	return &remote{base: strings.TrimRight(base, "/"), user: user, password: password, client: &http.Client{Timeout: 10 * time.Minute}}, nil
}

// call sends a request and decodes the result member of the reply into
// out; an error reply becomes an error with the server's message.
func (r *remote) call(method, path string, body []byte, out any) error {
	req, err := http.NewRequest(method, r.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.SetBasicAuth(r.user, r.password)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return fmt.Errorf("asking the server: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("reading the server's reply: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error struct{ Message, Detail string } `json:"error"`
		}
		msg := strings.TrimSpace(string(b))
		if json.Unmarshal(b, &e) == nil && e.Error.Message != "" {
			msg = e.Error.Message
			if e.Error.Detail != "" {
				msg += ": " + e.Error.Detail
			}
		}
		if resp.StatusCode == http.StatusNotFound {
			return fmt.Errorf("%w: %s", errNotFound, msg)
		}
		return fmt.Errorf("the server answered %s: %s", resp.Status, msg)
	}
	var reply struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(b, &reply); err != nil {
		return fmt.Errorf("the server's reply is not JSON: %w", err)
	}
	return json.Unmarshal(reply.Result, out)
}
