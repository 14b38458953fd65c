package outbox

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"
	"unicode/utf8"
)

// SMTPConfig says how to send mail. An empty Addr disables email: such
// messages are marked skipped instead of being retried forever.
type SMTPConfig struct {
	Addr     string // host:port of the submission server
	From     string // sender address, "GridHall <noreply@example.cn>"
	Username string // PLAIN authentication when set
	Password string
	Timeout  time.Duration // the whole conversation; 30 s when 0
	// TLS configures STARTTLS; nil verifies the server's certificate
	// against the system roots for the host in Addr.
	TLS *tls.Config
}

// String keeps the password out of logs and error messages.
func (c SMTPConfig) String() string {
	pw := ""
	if c.Password != "" {
		pw = "(redacted)"
	}
	return fmt.Sprintf("{Addr:%s From:%s Username:%s Password:%s Timeout:%s}", c.Addr, c.From, c.Username, pw, c.Timeout)
}

// GoString is String, for %#v.
func (c SMTPConfig) GoString() string { return c.String() }

// mail is a rendered email.
type mailMessage struct {
	from, to *mail.Address
	data     []byte
}

// buildEmail renders a plain-text UTF-8 mail. The subject and display names
// are RFC 2047 encoded when they are not plain ASCII, so Chinese subjects
// survive every mail system and a line break in them cannot inject headers;
// the body is quoted-printable, readable as is when it is ASCII. Only the
// subject is folded: addresses stay on one line, where folding could
// change the spaces of a quoted name.
func buildEmail(from, to *mail.Address, subject, body string, date time.Time, messageID string) []byte {
	var b bytes.Buffer
	header := func(name, value string) {
		line := name + ": " + value
		if name == "Subject" {
			line = fold(line)
		}
		b.WriteString(line)
		b.WriteString("\r\n")
	}
	header("From", from.String())
	header("To", to.String())
	header("Subject", encodeSubject(subject))
	header("Date", date.Format(time.RFC1123Z))
	header("Message-ID", messageID)
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=UTF-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	// RFC 3834: tells vacation responders not to answer a notification.
	header("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	body = strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\r", "\n")
	// SMTP ends the data with a line break anyway; adding it here keeps the
	// body the same whichever way it is transported.
	if !strings.HasSuffix(body, "\n") {
		body += "\n"
	}
	w := quotedprintable.NewWriter(&b)
	w.Write([]byte(body))
	w.Close()
	return b.Bytes()
}

// encodeSubject returns a subject as it goes into the header: unchanged
// when it is short plain ASCII, otherwise as RFC 2047 base64 encoded words.
// Encoding also covers ASCII that a reader would alter — "=?" (which would
// be decoded as an encoded word), runs of spaces and edge spaces (which
// unfolding collapses) and anything too long for one line — so the reader
// sees exactly the subject that was sent.
func encodeSubject(s string) string {
	plain := len(s) <= 60 && !strings.Contains(s, "=?") && !strings.Contains(s, "  ") &&
		strings.TrimSpace(s) == s
	for i := 0; plain && i < len(s); i++ {
		plain = s[i] >= ' ' && s[i] <= '~'
	}
	if plain {
		return s
	}
	// An encoded word holds at most 75 characters: 12 of framing and 60 of
	// base64, which is 45 bytes of UTF-8, cut at a character boundary.
	const chunk = 45
	var words []string
	for len(s) > 0 {
		n := min(len(s), chunk)
		for n < len(s) && n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		if n == 0 {
			n = min(len(s), chunk)
		}
		words = append(words, "=?UTF-8?B?"+base64.StdEncoding.EncodeToString([]byte(s[:n]))+"?=")
		s = s[n:]
	}
	return strings.Join(words, " ")
}

// fold breaks a header line at spaces so that lines stay near 78
// characters (RFC 5322 §2.2.3). Encoded words hold no spaces, so a long
// encoded subject breaks between its words, where a reader's unfolding
// rejoins it exactly.
func fold(line string) string {
	const width = 76
	if len(line) <= width {
		return line
	}
	var b strings.Builder
	col := 0
	for i, word := range strings.Split(line, " ") {
		if i > 0 {
			if col+1+len(word) > width {
				b.WriteString("\r\n ")
				col = 1
			} else {
				b.WriteByte(' ')
				col++
			}
		}
		b.WriteString(word)
		col += len(word)
	}
	return b.String()
}

// messageID is stable across retries of one message, so that a receiving
// system can drop a duplicate after a node died between sending and
// recording.
func messageID(m claimed, from *mail.Address) string {
	domain := "gridhall.invalid"
	if _, d, ok := strings.Cut(from.Address, "@"); ok && d != "" {
		domain = d
	}
	return fmt.Sprintf("<gridhall.%d.%d@%s>", m.id, m.createdAt, domain)
}

// smtpError carries the SMTP reply code of a refused mail.
type smtpError struct {
	code int
	err  error
}

func (e *smtpError) Error() string { return e.err.Error() }

// permanent reports whether the server refused for good (5xx): retrying
// would only repeat the refusal.
func (e *smtpError) permanent() bool { return e.code >= 500 }

// sendMail speaks SMTP to cfg.Addr: STARTTLS when the server offers it,
// PLAIN authentication when a user name is set (net/smtp refuses to send a
// password over an unencrypted connection to any host but localhost).
func sendMail(ctx context.Context, cfg SMTPConfig, msg mailMessage) error {
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return errors.New("bad SMTP address")
	}
	dialer := net.Dialer{Timeout: timeout}
	conn, err := dialer.DialContext(ctx, "tcp", cfg.Addr)
	if err != nil {
		return err
	}
	// The deadline covers the whole conversation: a stuck server must not
	// hold the claim. It is real time, as network I/O is.
	if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		conn.Close()
		return err
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return replyError(err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		tc := cfg.TLS
		if tc == nil {
			tc = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
		}
		if err := c.StartTLS(tc); err != nil {
			return replyError(err)
		}
	}
	if cfg.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return errors.New("SMTP server offers no authentication")
		}
		if err := c.Auth(smtp.PlainAuth("", cfg.Username, cfg.Password, host)); err != nil {
			return replyError(err)
		}
	}
	if err := c.Mail(msg.from.Address); err != nil {
		return replyError(err)
	}
	if err := c.Rcpt(msg.to.Address); err != nil {
		return replyError(err)
	}
	w, err := c.Data()
	if err != nil {
		return replyError(err)
	}
	if _, err := w.Write(msg.data); err != nil {
		return replyError(err)
	}
	if err := w.Close(); err != nil {
		return replyError(err)
	}
	// The mail is accepted once DATA is closed; a failed QUIT changes nothing.
	c.Quit()
	return nil
}

// replyError keeps an SMTP reply's code so that permanent refusals are
// recognised.
func replyError(err error) error {
	var te *textproto.Error
	if errors.As(err, &te) {
		return &smtpError{code: te.Code, err: err}
	}
	return err
}
