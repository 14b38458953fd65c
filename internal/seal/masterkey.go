package seal

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// MasterKey is the 32-byte key-encryption key. It wraps the keys in table
// seal_keys and is never stored in the database. Its String method hides the
// bytes, so a key printed or logged by mistake does not leak.
type MasterKey [32]byte

// String returns a placeholder, never the key.
func (MasterKey) String() string { return "seal.MasterKey(redacted)" }

// GoString returns a placeholder, never the key, for %#v.
func (MasterKey) GoString() string { return "seal.MasterKey(redacted)" }

// maxKeyFile bounds what LoadMasterKey reads: a key file holds one line, and a
// large file is a mistake (a wrong path) better reported than parsed.
const maxKeyFile = 4096

// ParseMasterKey decodes a master key written as base64 (standard or URL
// alphabet, with or without padding) or as 64 hexadecimal digits. Surrounding
// white space, such as a file's final newline, is ignored. Errors never
// repeat the text, because it may be a near-miss of the real key.
func ParseMasterKey(s string) (MasterKey, error) {
	var mk MasterKey
	s = strings.TrimSpace(s)
	if s == "" {
		return mk, errors.New("master key is empty")
	}
	var b []byte
	if len(s) == 2*len(mk) && isHex(s) {
		b, _ = hex.DecodeString(s)
	} else {
		var ok bool
		b, ok = decodeBase64(s)
		switch {
		case ok && len(b) == len(mk):
		case isHex(s):
			return mk, fmt.Errorf("master key has %d hexadecimal digits, want 64 (or 44 base64 characters)", len(s))
		case ok:
			return mk, fmt.Errorf("master key decodes to %d bytes, want %d (generate one with `gridhall keys init`)", len(b), len(mk))
		default:
			return mk, fmt.Errorf("master key (%d characters) is neither base64 nor 64 hexadecimal digits", len(s))
		}
	}
	copy(mk[:], b)
	if mk == (MasterKey{}) {
		// An all-zero key is a placeholder, not a secret.
		return MasterKey{}, errors.New("master key is all zeros")
	}
	return mk, nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// decodeBase64 accepts the four common spellings. Strict decoding rejects
// non-zero padding bits, so that one key has few spellings, and the explicit
// character check rejects the line breaks that package base64 would skip.
func decodeBase64(s string) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("+/-_=", c) >= 0) {
			return nil, false
		}
	}
	encs := []*base64.Encoding{base64.StdEncoding, base64.URLEncoding}
	if !strings.HasSuffix(s, "=") {
		encs = []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding}
	}
	for _, enc := range encs {
		if b, err := enc.Strict().DecodeString(s); err == nil {
			return b, true
		}
	}
	return nil, false
}

// LoadMasterKey finds the master key: in the file named by file when file is
// not empty, otherwise in env, which is the value (not the name) of the
// environment variable, read by the configuration. ok is false when both are
// empty, so that the caller can offer to generate a key; a file that is named
// but unreadable or invalid is an error, never a silent fallback to env.
func LoadMasterKey(file, env string) (MasterKey, bool, error) {
	if file != "" {
		mk, err := readKeyFile(file)
		if err != nil {
			return MasterKey{}, false, err
		}
		return mk, true, nil
	}
	if strings.TrimSpace(env) == "" {
		return MasterKey{}, false, nil
	}
	mk, err := ParseMasterKey(env)
	if err != nil {
		return MasterKey{}, false, fmt.Errorf("master key from the environment: %w", err)
	}
	return mk, true, nil
}

func readKeyFile(file string) (MasterKey, error) {
	f, err := os.Open(file)
	if err != nil {
		return MasterKey{}, fmt.Errorf("read master key: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return MasterKey{}, fmt.Errorf("read master key file %s: %w", file, err)
	}
	if len(b) > maxKeyFile {
		return MasterKey{}, fmt.Errorf("master key file %s is larger than %d bytes: is it the right file?", file, maxKeyFile)
	}
	mk, err := ParseMasterKey(string(b))
	if err != nil {
		return MasterKey{}, fmt.Errorf("master key file %s: %w", file, err)
	}
	return mk, nil
}

// GenerateMasterKey returns a new random master key and its standard padded
// base64 text, the form to write to the key file or the environment.
func GenerateMasterKey() (MasterKey, string) {
	var mk MasterKey
	rand.Read(mk[:]) // never fails: crypto/rand aborts the program instead
	return mk, base64.StdEncoding.EncodeToString(mk[:])
}
