package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
)

// DefaultPageSize is the limit the client asks for: MyQ's documented default.
const DefaultPageSize = 100

// maxPages bounds the requests one listing may cost: a server that ignores
// start, or claims a huge count, cannot keep the kiosk asking forever.
const maxPages = 1000

// listPage is one page of a MyQ listing: its items and the total MyQ claims
// (nil when the answer carries no count).
type listPage[T any] struct {
	items []T
	count *int64
}

// decodeCount reads MyQ's "count" (the total over every page).
func decodeCount(raw json.RawMessage) (*int64, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil || n < 0 {
		return nil, fmt.Errorf("count %.20s is not a whole number", raw)
	}
	return &n, nil
}

// readPages reads a MyQ listing page by page (limit, start) until the
// listed total (count) is reached or a page comes back short (empty, when
// a count was given). It relies on
// no order: items are told apart by key. A listing that cannot be read whole
// and consistently (count changes between pages, duplicates, fewer or more
// distinct items than count, too many pages) is an error wrapping
// ErrIncompleteListing: an incomplete listing proves nothing about absence.
func readPages[T any](ctx context.Context, c *Client, op, path string, q url.Values, decode func([]byte) (listPage[T], error), key func(T) string) ([]T, error) {
	limit := c.pageSize
	incomplete := func(format string, args ...any) error {
		return &Error{Op: op, Status: http.StatusOK, Err: fmt.Errorf("%w: "+format, append([]any{ErrIncompleteListing}, args...)...)}
	}
	var (
		out   []T
		seen        = map[string]int{} // key → index in out
		total int64 = -1
		start int64
		dups  int
	)
	for page := 0; ; page++ {
		if page >= maxPages {
			return nil, incomplete("still not complete after %d pages of %d", maxPages, limit)
		}
		pq := url.Values{}
		for k, v := range q {
			pq[k] = v
		}
		pq.Set("limit", strconv.Itoa(limit))
		pq.Set("start", strconv.FormatInt(start, 10))
		var p listPage[T]
		err := c.call(ctx, op, http.MethodGet, path, pq, nil, func(b []byte) (err error) {
			p, err = decode(b)
			return err
		})
		if err != nil {
			return nil, err
		}
		if p.count != nil {
			switch {
			case total < 0:
				total = *p.count
			case total != *p.count:
				return nil, incomplete("count changed from %d to %d while paging", total, *p.count)
			}
		}
		fresh := 0
		for _, it := range p.items {
			k := key(it)
			if i, ok := seen[k]; ok {
				// An unstable order may repeat an item; two different
				// versions of one item leave no way to tell which is true.
				if !reflect.DeepEqual(out[i], it) {
					return nil, incomplete("item %s listed twice, differently", k)
				}
				dups++
				continue
			}
			seen[k] = len(out)
			out = append(out, it)
			fresh++
		}
		// A page of nothing but earlier items: the server is not moving
		// through the list (start ignored); asking again would be the same.
		if len(p.items) > 0 && fresh == 0 {
			return nil, incomplete("the page at start %d only repeated earlier items", start)
		}
		start += int64(len(p.items))
		// With a count, a short page may be a server's own cap on limit:
		// read on until count; only an empty page ends it early.
		if len(p.items) == 0 || (total >= 0 && start >= total) || (total < 0 && len(p.items) < limit) {
			break
		}
	}
	switch {
	case dups > 0 && total >= 0 && int64(len(out)) != total:
		return nil, incomplete("%d distinct of %d listed, %d repeated", len(out), total, dups)
	case total >= 0 && int64(len(out)) < total:
		return nil, incomplete("%d of %d listed", len(out), total)
	case total >= 0 && int64(len(out)) > total:
		return nil, incomplete("%d listed, count says %d", len(out), total)
	case dups > 0 && total < 0:
		return nil, incomplete("%d repeated items and no count", dups)
	}
	return out, nil
}
