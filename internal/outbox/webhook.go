package outbox

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gridhall/gridhall/internal/errs"
)

// The headers of a webhook delivery.
const (
	HeaderEvent     = "X-GridHall-Event"
	HeaderDelivery  = "X-GridHall-Delivery"
	HeaderTimestamp = "X-GridHall-Timestamp"
	HeaderSignature = "X-GridHall-Signature"
)

// webhookTimeout bounds one delivery, whatever the HTTP client says: a slow
// receiver must not hold a claim for long.
const webhookTimeout = 10 * time.Second

// secretPrefix marks GridHall webhook secrets, so that secret scanners and
// people recognise one when it leaks into a repository or a ticket.
const secretPrefix = "ghwh_"

// newSecret returns a fresh endpoint secret: 32 random bytes, base64url.
// Receivers use the whole string, prefix included, as the HMAC key.
func newSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return secretPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// signature is one "v1=" element: HMAC-SHA256 over timestamp "." body.
func signature(secret []byte, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// signatureHeader signs body under every given secret, in order.
func signatureHeader(timestamp string, body []byte, secrets ...[]byte) string {
	parts := make([]string, len(secrets))
	for i, s := range secrets {
		parts[i] = "v1=" + hex.EncodeToString(signature(s, timestamp, body))
	}
	return strings.Join(parts, ",")
}

// VerifyTolerance is the clock skew receivers should allow in [Verify]:
// long enough for a slow delivery and ordinary clock drift, short enough
// that a captured delivery cannot be replayed for long. Retries are signed
// afresh, so they are never stale.
const VerifyTolerance = 5 * time.Minute

// Verify checks a webhook delivery as a receiver gets it: the timestamp
// header must be a Unix time within tolerance of now (which bounds replays of
// a captured delivery), and one v1= element of the signature header must be
// the HMAC-SHA256 under secret of timestamp "." body. It returns nil for an
// authentic delivery, otherwise errs.Invalid naming the failing header.
// Receivers should also remember X-GridHall-Delivery values for longer than
// tolerance to drop retried deliveries they already processed.
func Verify(secret []byte, header http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	const op = "outbox.Verify"
	if len(secret) == 0 {
		return errs.Fields(op, map[string]string{"secret": "error.field.required"})
	}
	text := header.Get(HeaderTimestamp)
	ts, err := strconv.ParseInt(text, 10, 64)
	if err != nil || ts < 0 || strconv.FormatInt(ts, 10) != text {
		return errs.Fields(op, map[string]string{HeaderTimestamp: "outbox.error.timestamp"})
	}
	skew := now.Unix() - ts
	if skew < 0 {
		skew = -skew
	}
	if skew > int64(tolerance/time.Second) {
		return errs.Fields(op, map[string]string{HeaderTimestamp: "outbox.error.timestamp_skew"})
	}
	want := signature(secret, text, body)
	for part := range strings.SplitSeq(header.Get(HeaderSignature), ",") {
		v, ok := strings.CutPrefix(strings.TrimSpace(part), "v1=")
		if !ok {
			continue
		}
		got, err := hex.DecodeString(v)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return errs.Fields(op, map[string]string{HeaderSignature: "outbox.error.signature"})
}

// postWebhook delivers one message to an endpoint, signed with the given
// secrets, and reports the outcome. Only a 2xx answer counts as delivered;
// redirects are not followed (the default client is built so), because a
// receiver that moved should have its endpoint updated, not be chased.
func postWebhook(ctx context.Context, client *http.Client, endpointURL string, m claimed, now time.Time, secrets ...[]byte) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, webhookTimeout)
	defer cancel()
	body := []byte(m.payload)
	ts := strconv.FormatInt(now.Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpointURL, bytes.NewReader(body))
	if err != nil {
		return 0, errors.New("bad endpoint URL")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "GridHall-Webhook/1")
	req.Header.Set(HeaderEvent, m.event)
	req.Header.Set(HeaderDelivery, strconv.FormatInt(m.id, 10))
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, signatureHeader(ts, body, secrets...))
	resp, err := client.Do(req)
	if err != nil {
		return 0, stripURL(err)
	}
	// Drain a little so the connection can be reused; the body itself is
	// not stored (it could hold anything).
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, errors.New("HTTP " + strconv.Itoa(resp.StatusCode))
	}
	return resp.StatusCode, nil
}

// stripURL drops the URL from an HTTP client error: an endpoint URL may
// carry a token in its query, and errors end up in the delivery log.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return errors.New("timeout")
		}
		return ue.Err
	}
	return err
}

// defaultHTTPClient does not follow redirects: see postWebhook.
func defaultHTTPClient() *http.Client {
	return &http.Client{
		Timeout: webhookTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
