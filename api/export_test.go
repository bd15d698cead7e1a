package api

import "time"

// SetClock replaces the client's clock (token refresh tests).
func SetClock(c *Client, now func() time.Time) {
	c.mu.Lock()
	c.now = now
	c.mu.Unlock()
}
