package metrics

import (
	"context"
	"net/http"
)

// routeKey is the context key of the slot Route fills for CountHTTP.
type routeKey struct{}

// routeSlot carries the route pattern an inner mux matched back out to
// CountHTTP: the inner mux sees a copy of the request (http.MaxBytesHandler
// makes one), so its Request.Pattern never reaches the outer handler.
type routeSlot struct{ pattern string }

// CountHTTP wraps the server's handler and counts every request in
// rekindle_http_requests_total by route pattern (as "GET /checkin/{token}",
// never the raw path, so tokens do not become label values) and status
// code. The pattern is the innermost one Route recorded, else the one the
// ServeMux that next is (or leads to) matched; "none" when none matched.
func (m *Metrics) CountHTTP(next http.Handler) http.Handler {
	if m == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		slot := &routeSlot{}
		r = r.WithContext(context.WithValue(r.Context(), routeKey{}, slot))
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		route := slot.pattern
		if route == "" {
			route = r.Pattern // set in place by a ServeMux given r
		}
		if route == "" {
			route = "none"
		}
		m.HTTP(route, sw.status)
	})
}

// Route wraps a ServeMux mounted inside another handler so that CountHTTP
// counts its requests by its own, more precise, pattern.
func Route(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r)
		if slot, ok := r.Context().Value(routeKey{}).(*routeSlot); ok && r.Pattern != "" {
			slot.pattern = r.Pattern
		}
	})
}
