package tableapi

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// instance is a live ServiceNow instance (or anything serving its Table
// API, irego included).
type instance struct {
	base   *url.URL
	opts   Options
	client *http.Client
}

func openInstance(spec string, opts Options) (Source, error) {
	u, err := url.Parse(strings.TrimRight(spec, "/"))
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%q: not an instance URL (want e.g. https://example.service-now.com)", spec)
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 1000
	}
	return &instance{base: u, opts: opts, client: &http.Client{Timeout: 5 * time.Minute}}, nil
}

func (in *instance) String() string { return in.base.Redacted() }

func (in *instance) Tables() ([]string, error) { return nil, nil }

func (in *instance) Each(ctx context.Context, table string, skip int, fn func(Record) error) error {
	offset := skip
	for {
		n, err := in.page(ctx, table, offset, fn)
		if err != nil {
			return err
		}
		if n < in.opts.PageSize {
			return nil
		}
		offset += n
	}
}

// page reads the records at offset, returning how many the page held.
func (in *instance) page(ctx context.Context, table string, offset int, fn func(Record) error) (int, error) {
	query := "ORDERBYsys_id"
	if in.opts.Query != "" {
		query = in.opts.Query + "^ORDERBYsys_id"
	}
	u := *in.base
	u.Path += "/api/now/table/" + url.PathEscape(table)
	u.RawQuery = url.Values{
		"sysparm_limit":                  {strconv.Itoa(in.opts.PageSize)},
		"sysparm_offset":                 {strconv.Itoa(offset)},
		"sysparm_query":                  {query},
		"sysparm_exclude_reference_link": {"true"},
	}.Encode()
	where := fmt.Sprintf("%s table %s offset %d", in, table, offset)
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return 0, err
		}
		req.Header.Set("Accept", "application/json")
		if in.opts.User != "" {
			req.SetBasicAuth(in.opts.User, in.opts.Password)
		}
		resp, err := in.client.Do(req)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", where, err)
		}
		if (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) && attempt < 5 {
			resp.Body.Close()
			if err := wait(ctx, retryAfter(resp, attempt)); err != nil {
				return 0, err
			}
			continue
		}
		defer resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusOK:
			none := 0
			return readPage(resp.Body, where, &none, fn)
		case resp.StatusCode == http.StatusNotFound, resp.StatusCode == http.StatusBadRequest && invalidTable(resp.Body):
			return 0, fmt.Errorf("%s: %s: %w", in, table, ErrNoTable)
		case resp.StatusCode == http.StatusUnauthorized, resp.StatusCode == http.StatusForbidden:
			return 0, fmt.Errorf("%s: %s (check the user, its password and its read access to %s)", where, resp.Status, table)
		default:
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			return 0, fmt.Errorf("%s: %s: %s", where, resp.Status, strings.TrimSpace(string(b)))
		}
	}
}

// invalidTable tells ServiceNow's answer for a table that does not exist.
func invalidTable(body io.Reader) bool {
	b, _ := io.ReadAll(io.LimitReader(body, 4096))
	s := strings.ToLower(string(b))
	return strings.Contains(s, "invalid table") || strings.Contains(s, "does not represent any resource")
}

func retryAfter(resp *http.Response, attempt int) time.Duration {
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 && s <= 60 {
		return time.Duration(s) * time.Second
	}
	return time.Duration(1<<attempt) * 200 * time.Millisecond
}

func wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
