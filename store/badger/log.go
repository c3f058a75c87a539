package badger

import (
	"fmt"
	"strings"
	"sync"
)

// readErrors is Badger's logger: it drops everything except why a value
// could not be read. Badger logs that and returns an empty value without
// an error; the reader notices the empty value and reports this reason.
type readErrors struct {
	mu  sync.Mutex
	msg string
}

func (l *readErrors) Errorf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if strings.HasPrefix(msg, "Key: ") && strings.Contains(msg, "valuePointer") && !strings.Contains(msg, "Fid:0 ") {
		// Badger then lists the key's versions with their value pointers.
		if m := vlogFid.FindString(msg); m != "" {
			l.mu.Lock()
			l.msg += " " + m
			l.mu.Unlock()
		}
		return
	}
	if !strings.HasPrefix(msg, "Unable to read") {
		return
	}
	if i := strings.Index(msg, " Error: "); i >= 0 {
		msg = msg[i+len(" Error: "):]
	}
	l.mu.Lock()
	l.msg = strings.TrimSpace(msg)
	l.mu.Unlock()
}

func (l *readErrors) last() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.msg == "" {
		return "checksum mismatch or unreadable value log"
	}
	return l.msg
}

func (*readErrors) Warningf(string, ...any) {}
func (*readErrors) Infof(string, ...any)    {}
func (*readErrors) Debugf(string, ...any)   {}
