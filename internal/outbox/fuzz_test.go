package outbox

import (
	"bytes"
	"crypto/hmac"
	"encoding/hex"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The fuzz targets' seed corpora run in every test pass; `go test -fuzz
// FuzzXxx` explores further.

func FuzzVerify(f *testing.F) {
	f.Add([]byte("ghwh_k"), "1772438400", "v1=00", []byte(`{}`))
	f.Add([]byte("k"), "", "", []byte(nil))
	f.Add([]byte("k"), "99999999999999999999", "v1=,v1=zz, v1=ab", []byte("x"))
	f.Add([]byte("k"), "-9223372036854775808", "v0=1", []byte("x"))
	f.Fuzz(func(t *testing.T, secret []byte, ts, sig string, body []byte) {
		now := time.Unix(1772438400, 0)
		h := http.Header{}
		h.Set(HeaderTimestamp, ts)
		h.Set(HeaderSignature, sig)
		if err := Verify(secret, h, body, now, time.Hour); err == nil {
			// Accepted: some element must really be the signature.
			want := signature(secret, h.Get(HeaderTimestamp), body)
			found := false
			for part := range strings.SplitSeq(h.Get(HeaderSignature), ",") {
				got, err := hex.DecodeString(strings.TrimPrefix(strings.TrimSpace(part), "v1="))
				found = found || (err == nil && hmac.Equal(got, want))
			}
			if !found {
				t.Fatalf("accepted a forged signature %q", sig)
			}
		}
		// What the dispatcher signs always verifies, under either secret.
		if len(secret) == 0 {
			return
		}
		stamp := strconv.FormatInt(now.Unix(), 10)
		h.Set(HeaderTimestamp, stamp)
		h.Set(HeaderSignature, signatureHeader(stamp, body, []byte("previous"), secret))
		if err := Verify(secret, h, body, now, 0); err != nil {
			t.Fatalf("own signature refused: %v", err)
		}
	})
}

func FuzzParseEvents(f *testing.F) {
	for _, s := range []string{"*", "case.accepted", "case.closed, case.accepted,,", "a,*", "", " , ", "Case.x", "a..b", "a_1.b2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		events, ok := ParseEvents(s)
		if !ok {
			return
		}
		if len(events) == 0 || !slices.IsSorted(events) || len(slices.Compact(slices.Clone(events))) != len(events) {
			t.Fatalf("%q → %q", s, events)
		}
		for _, e := range events {
			if e != "*" && !validEvent(e) {
				t.Fatalf("%q → invalid %q", s, e)
			}
		}
		again, ok := ParseEvents(strings.Join(events, ","))
		if !ok || !slices.Equal(again, events) {
			t.Fatalf("not stable: %q → %q → %q", s, events, again)
		}
		for _, e := range events {
			if !subscribed(strings.Join(events, ","), e) && e != "*" {
				t.Fatalf("%q does not subscribe %q", events, e)
			}
		}
	})
}

func FuzzLink(f *testing.F) {
	for _, s := range []string{"/cases/1", "//evil.example", "/\\evil", "javascript:alert(1)", "/a?b=c#d", "/%2F%2Fevil", "/\t/evil", "/案件"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://app.example.cn/inbox")
	f.Fuzz(func(t *testing.T, s string) {
		if !validLink(s) {
			return
		}
		u, err := url.Parse(s)
		if err != nil {
			t.Fatalf("accepted unparsable %q", s)
		}
		if r := base.ResolveReference(u); r.Host != "app.example.cn" || r.Scheme != "https" {
			t.Fatalf("link %q leads to %s", s, r)
		}
	})
}

func FuzzEndpointURL(f *testing.F) {
	for _, s := range []string{"https://a.cn/h", "http://[::1]:8080/x?y=1", "https://u:p@a.cn", "ftp://a.cn", "https:///x", "https://a.cn/#f", "mailto:a@b.cn", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if checkEndpointURL(s) != "" {
			return
		}
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.User != nil {
			t.Fatalf("accepted %q", s)
		}
		if _, err := http.NewRequest(http.MethodPost, s, nil); err != nil {
			t.Fatalf("accepted %q, which cannot be requested: %v", s, err)
		}
	})
}

func FuzzEmail(f *testing.F) {
	f.Add("您的报事已受理", "正文\n第二行", "网格通", "li@example.cn")
	f.Add("=?UTF-8?B?5Lit?=", "a\r\nb\rc", "", "a@b.cn")
	f.Add("  two  spaces  ", ".\n..\n", "Mr \"Q\"", "x@y.z")
	f.Add(strings.Repeat("长", 200), strings.Repeat("x", 200), "A", "a@b")
	f.Fuzz(func(t *testing.T, subject, body, name, addr string) {
		to, err := parseAddress(addr)
		if err != nil || !validLine(subject) || !utf8.ValidString(body) || !utf8.ValidString(name) || !validLine(name) {
			return
		}
		from := &mail.Address{Name: name, Address: "noreply@example.cn"}
		data := buildEmail(from, to, subject, body, time.Unix(1772438400, 0), "<1.2@example.cn>")
		msg, err := mail.ReadMessage(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("unparsable mail: %v\n%s", err, data)
		}
		var dec mime.WordDecoder
		got, err := dec.DecodeHeader(msg.Header.Get("Subject"))
		if err != nil || got != subject {
			t.Fatalf("subject %q decoded as %q (%v)\n%s", subject, got, err, data)
		}
		if len(msg.Header) != 9 {
			t.Fatalf("headers %v: something was injected", msg.Header)
		}
		rt, err := msg.Header.AddressList("To")
		if err != nil || len(rt) != 1 || rt[0].Address != to.Address {
			t.Fatalf("To %q → %v (%v)", to, rt, err)
		}
		raw, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
		if err != nil {
			t.Fatal(err)
		}
		want := strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\r", "\n")
		if !strings.HasSuffix(want, "\n") {
			want += "\n"
		}
		if gotBody := strings.ReplaceAll(string(raw), "\r\n", "\n"); gotBody != want {
			t.Fatalf("body %q decoded as %q", want, gotBody)
		}
	})
}
