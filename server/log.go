package server

import (
	"context"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/irego/irego/api"
)

// logState collects what the access log record says beyond the request
// line; the authentication step fills in the user.
type logState struct{ user string }

type logKey struct{}

func logUser(r *http.Request, name string) {
	if st, ok := r.Context().Value(logKey{}).(*logState); ok {
		st.user = name
	}
}

// recorder remembers the status and size of a reply.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
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
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// accessLog writes one record per request: method, path (never the query,
// which may carry secrets), status, bytes, duration, user, remote address,
// the error replied if any, and (through the logger) the request id. A
// handler that panics is logged with its stack and answered 500.
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		st := &logState{}
		rec := &recorder{ResponseWriter: w}
		ctx, replied := api.WithErrorNote(context.WithValue(r.Context(), logKey{}, st))
		r = r.WithContext(ctx)
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.cfg.Logger.ErrorContext(r.Context(), "panic serving request", "method", r.Method, "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
				if rec.status == 0 {
					api.WriteError(rec, r, &api.Error{Status: http.StatusInternalServerError, Message: "Internal server error"})
				}
			}
			if rec.status == 0 {
				rec.status = http.StatusOK // nothing written: net/http answers 200
			}
			level := slog.LevelInfo
			if rec.status >= 500 {
				level = slog.LevelWarn
			}
			attrs := []slog.Attr{slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Int("status", rec.status), slog.Int64("bytes", rec.bytes),
				slog.Duration("duration", time.Since(start)), slog.String("user", st.user),
				slog.String("remote", r.RemoteAddr)}
			if e := replied(); e != nil {
				attrs = append(attrs, slog.String("error", e.Error()))
			}
			s.cfg.Logger.LogAttrs(r.Context(), level, "request", attrs...)
		}()
		next.ServeHTTP(rec, r)
	})
}
