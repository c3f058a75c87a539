package server

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/irego/irego/api"
	"github.com/irego/irego/engine"
)

// backup streams a consistent backup of the whole store in Badger's format
// while payloads keep being applied; `irego restore` loads it.
func (s *Server) backup(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="irego-%s.backup"`, time.Now().UTC().Format("20060102T150405Z")))
	if err := s.cfg.Engine.Backup(w); errors.Is(err, engine.ErrBackupRunning) {
		w.Header().Del("Content-Disposition")
		api.WriteError(w, r, &api.Error{Status: http.StatusServiceUnavailable, Message: "Backup running", Detail: err.Error()})
	} else if err != nil {
		// Headers are gone already; the truncated body and the log tell.
		s.cfg.Logger.ErrorContext(r.Context(), "backup failed", "err", err)
		panic(http.ErrAbortHandler)
	}
}
