package fidelistest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// SMTPOptions tune MustSMTPServer.
type SMTPOptions struct {
	// TLS offers STARTTLS with a certificate for 127.0.0.1 and localhost signed by a test
	// CA (SMTPServer.RootCAs).
	TLS bool
	// RequireTLS refuses MAIL before STARTTLS (530), like a submission server.
	RequireTLS bool
	// Username and Password, when set, offer AUTH PLAIN and refuse MAIL before it.
	Username, Password string
	// Reject lists recipient addresses answered 550 at RCPT.
	Reject []string
	// TempFail answers 451 to DATA (a temporary failure).
	TempFail bool
}

// SMTPMessage is a message the test server accepted.
type SMTPMessage struct {
	Helo string   // the EHLO or HELO name
	TLS  bool     // the message came over TLS (after STARTTLS)
	Auth string   // the authenticated user, "" if none
	From string   // MAIL FROM
	To   []string // RCPT TO
	Data []byte   // the message as received, dot-unstuffed, CRLF line endings
}

// SMTPServer is a real SMTP server on a loopback port that speaks enough of RFC 5321
// (EHLO/HELO, STARTTLS, AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT) for tests, and
// records the messages it accepts.
type SMTPServer struct {
	Host    string // 127.0.0.1
	Port    int
	RootCAs *x509.CertPool // trusts the server's certificate when TLS is on
	CAPEM   []byte         // the same CA certificate, PEM-encoded (for --smtp-ca-file)

	opts SMTPOptions
	tls  *tls.Config
	ln   net.Listener
	mu   sync.Mutex
	msgs []SMTPMessage
	wg   sync.WaitGroup
}

// MustSMTPServer starts a test SMTP server that stops when the test ends.
func MustSMTPServer(tb testing.TB, opts ...SMTPOptions) *SMTPServer {
	tb.Helper()
	s := &SMTPServer{Host: "127.0.0.1"}
	if len(opts) > 0 {
		s.opts = opts[0]
	}
	if s.opts.TLS {
		cfg, pool, caPEM, err := testTLS()
		if err != nil {
			tb.Fatalf("test SMTP certificate: %v", err)
		}
		s.tls, s.RootCAs, s.CAPEM = cfg, pool, caPEM
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	s.ln, s.Port = ln, ln.Addr().(*net.TCPAddr).Port
	s.wg.Go(s.serve)
	tb.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

// Messages returns the messages accepted so far.
func (s *SMTPServer) Messages() []SMTPMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SMTPMessage(nil), s.msgs...)
}

func (s *SMTPServer) serve() {
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return // closed at cleanup
		}
		s.wg.Go(func() { s.session(conn) })
	}
}

// session runs one SMTP conversation, bounded in time.
func (s *SMTPServer) session(conn net.Conn) {
	defer func() { conn.Close() }()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	tp := textproto.NewConn(conn)
	reply := func(code int, lines ...string) {
		for i, l := range lines {
			sep := " "
			if i < len(lines)-1 {
				sep = "-"
			}
			tp.PrintfLine("%d%s%s", code, sep, l)
		}
	}
	var (
		helo, auth, from string
		to               []string
		secure           bool
	)
	reply(220, "fidelistest ESMTP")
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			helo, from, to = arg, "", nil
			ext := []string{"fidelistest greets " + arg, "8BITMIME"}
			if s.tls != nil && !secure {
				ext = append(ext, "STARTTLS")
			}
			if s.opts.Username != "" && (secure || !s.opts.RequireTLS) {
				ext = append(ext, "AUTH PLAIN")
			}
			reply(250, ext...)
		case "STARTTLS":
			if s.tls == nil || secure {
				reply(502, "5.5.1 STARTTLS not available")
				continue
			}
			reply(220, "2.0.0 Ready to start TLS")
			tc := tls.Server(conn, s.tls)
			if err := tc.Handshake(); err != nil {
				return
			}
			conn, secure, helo, auth, from, to = tc, true, "", "", "", nil
			tp = textproto.NewConn(conn)
		case "AUTH":
			mech, initial, _ := strings.Cut(arg, " ")
			if s.opts.Username == "" || !strings.EqualFold(mech, "PLAIN") {
				reply(504, "5.5.4 Unrecognized authentication type")
				continue
			}
			if initial == "" {
				reply(334, "")
				if initial, err = tp.ReadLine(); err != nil {
					return
				}
			}
			raw, err := base64.StdEncoding.DecodeString(initial)
			parts := strings.Split(string(raw), "\x00")
			if err != nil || len(parts) != 3 || parts[1] != s.opts.Username || parts[2] != s.opts.Password {
				reply(535, "5.7.8 Authentication credentials invalid")
				continue
			}
			auth = parts[1]
			reply(235, "2.7.0 Authentication successful")
		case "MAIL":
			switch {
			case helo == "":
				reply(503, "5.5.1 EHLO first")
			case s.opts.RequireTLS && !secure:
				reply(530, "5.7.0 Must issue a STARTTLS command first")
			case s.opts.Username != "" && auth == "":
				reply(530, "5.7.0 Authentication required")
			default:
				from, to = addrArg(arg, "FROM:"), nil
				reply(250, "2.1.0 OK")
			}
		case "RCPT":
			rcpt := addrArg(arg, "TO:")
			switch {
			case from == "":
				reply(503, "5.5.1 MAIL first")
			case contains(s.opts.Reject, rcpt):
				reply(550, "5.1.1 <"+rcpt+">: Recipient address rejected")
			default:
				to = append(to, rcpt)
				reply(250, "2.1.5 OK")
			}
		case "DATA":
			if len(to) == 0 {
				reply(503, "5.5.1 RCPT first")
				continue
			}
			reply(354, "End data with <CR><LF>.<CR><LF>")
			data, err := io.ReadAll(tp.DotReader())
			if err != nil {
				return
			}
			if s.opts.TempFail {
				reply(451, "4.3.0 Try again later")
				continue
			}
			s.mu.Lock()
			s.msgs = append(s.msgs, SMTPMessage{Helo: helo, TLS: secure, Auth: auth, From: from, To: to,
				Data: []byte(strings.ReplaceAll(string(data), "\n", "\r\n"))})
			s.mu.Unlock()
			from, to = "", nil
			reply(250, "2.0.0 OK queued")
		case "RSET":
			from, to = "", nil
			reply(250, "2.0.0 OK")
		case "NOOP":
			reply(250, "2.0.0 OK")
		case "QUIT":
			reply(221, "2.0.0 Bye")
			return
		default:
			reply(502, "5.5.2 Command not recognized")
		}
	}
}

// addrArg extracts the address of "FROM:<a@b> PARAMS" or "TO:<a@b>".
func addrArg(arg, prefix string) string {
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return ""
	}
	a := strings.TrimSpace(arg[len(prefix):])
	if i := strings.IndexByte(a, '>'); strings.HasPrefix(a, "<") && i > 0 {
		return a[1:i]
	}
	a, _, _ = strings.Cut(a, " ")
	return a
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// testTLS makes a CA and a server certificate for 127.0.0.1 and localhost, valid for a day.
func testTLS() (*tls.Config, *x509.CertPool, []byte, error) {
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fidelistest CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, nil, nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, nil, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}, pool, caPEM, nil
}
