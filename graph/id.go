package graph

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"sync"
	"time"
)

// NewID returns a new identifier: a UUID version 7 in its canonical text
// form. Version 7 starts with the creation time in milliseconds, so ids sort
// by creation, which keeps index pages local and pagination stable. Within
// one process they strictly increase (RFC 9562's 12-bit counter in rand_a,
// started at a random value each millisecond), so the memories of one add,
// which share a creation time, list in the order of their messages.
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[6:]); err != nil {
		// crypto/rand never fails on supported platforms (Go 1.24+ panics
		// inside Read instead of returning an error).
		panic("graph: crypto/rand: " + err.Error())
	}
	idClock.Lock()
	now := uint64(time.Now().UnixMilli())
	if now > idClock.ms {
		// A random start in the lower half leaves room to count.
		idClock.ms, idClock.seq = now, uint16(b[6]&0x07)<<8|uint16(b[7])
	} else if idClock.seq++; idClock.seq > 0x0fff {
		// 4,096 ids in one millisecond: borrow the next one.
		idClock.ms, idClock.seq = idClock.ms+1, 0
	}
	ms, seq := idClock.ms, idClock.seq
	idClock.Unlock()
	binary.BigEndian.PutUint64(b[:8], ms<<16)
	b[6] = 0x70 | byte(seq>>8)&0x0f // version 7, then the counter's high bits
	b[7] = byte(seq)
	b[8] = 0x80 | b[8]&0x3f // variant 10
	return formatUUID(b)
}

// idClock is the last millisecond and counter NewID used.
var idClock struct {
	sync.Mutex
	ms  uint64
	seq uint16
}

func formatUUID(b [16]byte) string {
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// ValidID reports whether s is a UUID in canonical lower- or upper-case text
// form (any version), the only shape neomem ids take.
func ValidID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// CheckID returns an Invalid error naming field when id is not a valid id.
func CheckID(op, field, id string) error {
	if ValidID(id) {
		return nil
	}
	if id == "" {
		return InvalidFields(op, FieldError{Path: field, Message: "is required"})
	}
	return InvalidFields(op, FieldError{Path: field, Message: "must be a UUID"})
}
