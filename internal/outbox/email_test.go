package outbox_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"io"
	"log/slog"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/outbox"
)

// smtpServer is a minimal SMTP server: enough of RFC 5321 for net/smtp,
// with optional STARTTLS and AUTH PLAIN.
type smtpServer struct {
	addr       string
	tls        *tls.Config // offers STARTTLS when set
	auth       bool        // offers AUTH PLAIN
	failAuth   bool
	rejectRcpt string // RCPT TO this address gets 550

	mu    sync.Mutex
	mails []gotMail
}

// gotMail is one accepted mail transaction.
type gotMail struct {
	from, to string
	data     []byte
	tls      bool
	auth     string
}

func startSMTP(t *testing.T, s *smtpServer) *smtpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	s.addr = ln.Addr().String()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *smtpServer) serve(c net.Conn) {
	defer func() { c.Close() }()
	tp := textproto.NewConn(c)
	tp.PrintfLine("220 test.invalid ESMTP")
	var m gotMail
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			ext := []string{"test.invalid"}
			if s.tls != nil && !m.tls {
				ext = append(ext, "STARTTLS")
			}
			if s.auth {
				ext = append(ext, "AUTH PLAIN")
			}
			ext = append(ext, "8BITMIME")
			for i, e := range ext {
				sep := "-"
				if i == len(ext)-1 {
					sep = " "
				}
				tp.PrintfLine("250%s%s", sep, e)
			}
		case "STARTTLS":
			tp.PrintfLine("220 go ahead")
			tc := tls.Server(c, s.tls)
			if err := tc.Handshake(); err != nil {
				return
			}
			c, tp, m.tls = tc, textproto.NewConn(tc), true
		case "AUTH":
			if s.failAuth {
				tp.PrintfLine("535 5.7.8 authentication failed")
				continue
			}
			_, resp, _ := strings.Cut(arg, " ")
			b, _ := base64.StdEncoding.DecodeString(resp)
			m.auth = string(b)
			tp.PrintfLine("235 2.7.0 ok")
		case "MAIL":
			m.from = arg
			tp.PrintfLine("250 ok")
		case "RCPT":
			if s.rejectRcpt != "" && strings.Contains(arg, s.rejectRcpt) {
				tp.PrintfLine("550 5.1.1 no such mailbox")
				continue
			}
			m.to = arg
			tp.PrintfLine("250 ok")
		case "DATA":
			tp.PrintfLine("354 go on")
			data, err := io.ReadAll(tp.DotReader())
			if err != nil {
				return
			}
			m.data = data
			s.mu.Lock()
			s.mails = append(s.mails, m)
			s.mu.Unlock()
			tp.PrintfLine("250 queued")
		case "QUIT":
			tp.PrintfLine("221 bye")
			return
		case "RSET", "NOOP":
			tp.PrintfLine("250 ok")
		default:
			tp.PrintfLine("502 not implemented")
		}
	}
}

func (s *smtpServer) got() []gotMail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]gotMail(nil), s.mails...)
}

// selfSigned returns a server TLS config for 127.0.0.1 and a client config
// that trusts it.
func selfSigned(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		// Certificate validity is checked against the real clock by crypto/tls.
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		&tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}

// decoded is a received mail, parsed and decoded.
type decoded struct {
	header mail.Header
	from   *mail.Address
	to     *mail.Address
	sub    string
	body   string
}

func decode(t *testing.T, data []byte) decoded {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("parse mail: %v\n%s", err, data)
	}
	var dec mime.WordDecoder
	sub, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	from, err := msg.Header.AddressList("From")
	if err != nil {
		t.Fatal(err)
	}
	to, err := msg.Header.AddressList("To")
	if err != nil {
		t.Fatal(err)
	}
	if msg.Header.Get("Content-Transfer-Encoding") != "quoted-printable" {
		t.Fatalf("transfer encoding %q", msg.Header.Get("Content-Transfer-Encoding"))
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	return decoded{header: msg.Header, from: from[0], to: to[0], sub: sub,
		body: strings.ReplaceAll(string(body), "\r\n", "\n")}
}

func TestEmailWithChineseSubjectOverSTARTTLSWithAuth(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	e := newEnv(t, d)
	serverTLS, clientTLS := selfSigned(t)
	srv := startSMTP(t, &smtpServer{tls: serverTLS, auth: true})
	subject := "您的报事已受理：小区东门井盖缺失（编号 2026-000042），请留意后续处理进度通知"
	body := "李先生您好：\n\n您反映的问题已受理。\n.这一行以点开头\n查看：https://gridhall.example.cn/cases/42\n"
	e.enqueue(t, outbox.Message{Channel: outbox.Email, Event: "case.accepted", To: "李明 <li.ming@example.cn>",
		Subject: subject, Body: body})
	dp := e.dispatcher(outbox.Config{SMTP: outbox.SMTPConfig{Addr: srv.addr, From: "网格通 <noreply@gridhall.example.cn>",
		Username: "mailer", Password: "pa55-word", TLS: clientTLS, Timeout: 10 * time.Second}})
	if n := runOnce(t, e.ctx, dp); n != 1 {
		t.Fatalf("delivered %d; rows %+v", n, e.rows(t))
	}
	mails := srv.got()
	if len(mails) != 1 {
		t.Fatalf("%d mails", len(mails))
	}
	m := mails[0]
	if !m.tls || m.auth != "\x00mailer\x00pa55-word" {
		t.Fatalf("tls %v, auth %q", m.tls, m.auth)
	}
	if !strings.Contains(m.from, "<noreply@gridhall.example.cn>") || !strings.Contains(m.to, "<li.ming@example.cn>") {
		t.Fatalf("envelope %q → %q", m.from, m.to)
	}
	got := decode(t, m.data)
	if got.sub != subject {
		t.Errorf("subject %q, want %q", got.sub, subject)
	}
	if got.body != body {
		t.Errorf("body %q, want %q", got.body, body)
	}
	if got.from.Name != "网格通" || got.from.Address != "noreply@gridhall.example.cn" || got.to.Name != "李明" {
		t.Errorf("from %v, to %v", got.from, got.to)
	}
	if date, err := got.header.Date(); err != nil || !date.Equal(t0) {
		t.Errorf("date %v (%v), want %v", date, err, t0)
	}
	id := e.rows(t)[0].id
	if mid := got.header.Get("Message-ID"); !strings.HasPrefix(mid, "<gridhall.") || !strings.HasSuffix(mid, "@gridhall.example.cn>") ||
		!strings.Contains(mid, "."+strconv.FormatInt(id, 10)+".") {
		t.Errorf("Message-ID %q", mid)
	}
	if ct := got.header.Get("Content-Type"); ct != "text/plain; charset=UTF-8" || got.header.Get("MIME-Version") != "1.0" {
		t.Errorf("Content-Type %q", ct)
	}
	// Every header line is short enough for any mail system, and the raw
	// subject is pure ASCII (encoded words).
	head, _, _ := bytes.Cut(m.data, []byte("\n\n"))
	for _, line := range strings.Split(string(head), "\n") {
		if len(line) > 78 {
			t.Errorf("header line of %d characters: %q", len(line), line)
		}
		for _, r := range line {
			if r > 127 {
				t.Fatalf("raw header not ASCII: %q", line)
			}
		}
	}
}

func TestEmailOverPlainSMTPWithoutAuth(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	e := newEnv(t, d)
	srv := startSMTP(t, &smtpServer{})
	e.enqueue(t, outbox.Message{Channel: outbox.Email, Event: "case.closed", To: "wang@example.cn", Subject: "Case closed",
		Body: "Plain ASCII body."})
	dp := e.dispatcher(outbox.Config{SMTP: outbox.SMTPConfig{Addr: srv.addr, From: "noreply@example.cn"}})
	if n := runOnce(t, e.ctx, dp); n != 1 {
		t.Fatalf("delivered %d; rows %+v", n, e.rows(t))
	}
	got := decode(t, srv.got()[0].data)
	if got.sub != "Case closed" || got.header.Get("Subject") != "Case closed" || got.body != "Plain ASCII body.\n" {
		t.Fatalf("got %+v", got)
	}
}

func TestEmailFailures(t *testing.T) {
	tests := []struct {
		name    string
		server  *smtpServer
		user    string
		status  string
		attempt int
		code    int
		errHas  string
	}{
		{"rejected recipient is dead at once", &smtpServer{rejectRcpt: "nobody@"}, "", "dead", 1, 550, "no such mailbox"},
		{"refused login is dead at once", &smtpServer{auth: true, failAuth: true}, "mailer", "dead", 1, 535, "authentication failed"},
		{"server without AUTH is retried", &smtpServer{}, "mailer", "pending", 1, 0, "no authentication"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := dbtest.Open(t, db.SQLite)
			e := newEnv(t, d)
			srv := startSMTP(t, tt.server)
			e.enqueue(t, outbox.Message{Channel: outbox.Email, Event: "case.closed", To: "nobody@example.cn", Subject: "x"})
			dp := e.dispatcher(outbox.Config{SMTP: outbox.SMTPConfig{Addr: srv.addr, From: "noreply@example.cn",
				Username: tt.user, Password: "pa55-word"}})
			if n := runOnce(t, e.ctx, dp); n != 0 {
				t.Fatalf("delivered %d", n)
			}
			r := e.rows(t)[0]
			if r.status != tt.status || r.attempts != tt.attempt || !strings.Contains(r.lastError, tt.errHas) ||
				strings.Contains(r.lastError, "pa55-word") {
				t.Fatalf("row %+v", r)
			}
			var code int
			if err := d.QueryRowContext(e.ctx, "SELECT status_code FROM outbox_attempts").Scan(&code); err != nil || code != tt.code {
				t.Fatalf("logged code %d (%v), want %d", code, err, tt.code)
			}
		})
	}
}

func TestEmailWithoutSMTPIsSkippedAndLoggedOnce(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	e := newEnv(t, d)
	var logs bytes.Buffer
	dp := outbox.NewDispatcher(d, e.clk, outbox.Config{}, slog.New(slog.NewTextHandler(&logs, nil)))
	for range 2 {
		e.enqueue(t, outbox.Message{Channel: outbox.Email, Event: "case.closed", To: "li@example.cn", Subject: "x"})
		if n := runOnce(t, e.ctx, dp); n != 0 {
			t.Fatalf("delivered %d", n)
		}
	}
	for _, r := range e.rows(t) {
		if r.status != "skipped" || r.attempts != 1 {
			t.Fatalf("row %+v", r)
		}
	}
	e.clk.Advance(24 * time.Hour)
	runOnce(t, e.ctx, dp)
	if n := e.count(t, "SELECT COUNT(*) FROM outbox_attempts WHERE outcome = 'skipped'"); n != 2 {
		t.Fatalf("%d skipped attempts logged, want 2 (never retried)", n)
	}
	if n := strings.Count(logs.String(), "email is not configured"); n != 1 {
		t.Fatalf("warned %d times:\n%s", n, logs.String())
	}
}
