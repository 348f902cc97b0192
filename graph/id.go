package graph

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// NewID returns a new identifier: a UUID version 7 in its canonical text
// form. Version 7 starts with the creation time in milliseconds, so ids sort
// roughly by creation, which keeps index pages local and pagination stable.
func NewID() string {
	var b [16]byte
	ms := uint64(time.Now().UnixMilli())
	binary.BigEndian.PutUint64(b[:8], ms<<16)
	if _, err := rand.Read(b[6:]); err != nil {
		// crypto/rand never fails on supported platforms (Go 1.24+ panics
		// inside Read instead of returning an error).
		panic("graph: crypto/rand: " + err.Error())
	}
	b[6] = 0x70 | b[6]&0x0f // version 7
	b[8] = 0x80 | b[8]&0x3f // variant 10
	return formatUUID(b)
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
