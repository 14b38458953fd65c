package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// TokenPrefix starts every API token, so that leaked tokens are easy to spot
// by secret scanners and in logs.
const TokenPrefix = "gh_"

// newSecret returns 32 random bytes, URL-safe base64 encoded.
func newSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashSecret is how session ids, API tokens and setup tokens are stored:
// SHA-256, hex. The secrets are 256 random bits, so a fast hash is enough —
// there is nothing to brute-force — and lookups stay one index probe.
func hashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// ParseToken checks the shape of an API token as presented by a client and
// returns it, or false when it cannot be one of ours.
func ParseToken(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, TokenPrefix) {
		return "", false
	}
	body := s[len(TokenPrefix):]
	if len(body) != 43 {
		return "", false
	}
	if _, err := base64.RawURLEncoding.DecodeString(body); err != nil {
		return "", false
	}
	return s, true
}

// ValidSessionID reports whether s has the shape of a session id.
func ValidSessionID(s string) bool {
	if len(s) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

// CSRFToken derives the anti-forgery token of a session. It is bound to the
// session id, which never leaves the HttpOnly cookie, so a page of another
// site cannot compute it.
func CSRFToken(sessionID string) string {
	sum := sha256.Sum256([]byte("gridhall-csrf\x00" + sessionID))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// TokenScopes are the scopes an API token may carry.
var TokenScopes = []string{"read", "write", "open311"}
