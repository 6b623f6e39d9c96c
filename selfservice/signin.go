package selfservice

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/audit"
	"github.com/fidelis/fidelis/consent"
	"github.com/fidelis/fidelis/customer"
	"github.com/fidelis/fidelis/loyalty"
	"github.com/fidelis/fidelis/mailer"
	"github.com/fidelis/fidelis/privacy"
	"github.com/fidelis/fidelis/register"
	"github.com/fidelis/fidelis/rights"
)

// Defaults of the sign-in rules.
const (
	DefaultLinkTTL    = 15 * time.Minute // a link works this long, once
	DefaultSessionTTL = time.Hour        // a customer session lasts this long
	// DefaultLinksPerAddress links at most are made for one customer per LinkWindow;
	// further requests send nothing and answer the same.
	DefaultLinksPerAddress = 3
	// DefaultRequestsPerClient link requests at most are accepted from one client (IP
	// address) per LinkWindow; further ones are refused with ETOOMANY.
	DefaultRequestsPerClient = 10
	LinkWindow               = 15 * time.Minute
	// maxAccountsPerAddress bounds the links one request makes when several customer
	// records share an address (a household): one per record.
	maxAccountsPerAddress = 3
	// sendTimeout bounds the delivery of one message.
	sendTimeout = 2 * time.Minute
)

// Service is the customer portal's domain. It is safe for concurrent use.
type Service struct {
	Store     Store
	Customers *customer.Service
	Consents  *consent.Service
	Rights    *rights.Service
	Loyalty   *loyalty.Service
	Register  *register.Service
	Registry  *privacy.Registry
	Audit     *audit.Log
	// Mailer sends sign-in links and rights letters; nil when no SMTP server is configured,
	// and then nobody can sign in (RequestLink answers EUNAVAILABLE).
	Mailer Sender
	// PublicURL is the base URL of the portal as customers reach it (scheme and host, no
	// trailing slash), for the links in messages.
	PublicURL string
	Now       func() time.Time
	Logger    *slog.Logger
	// Activity, when set, is told of every sign-in (retention, T-3).
	Activity Activity

	LinkTTL           time.Duration // zero: DefaultLinkTTL
	SessionTTL        time.Duration // zero: DefaultSessionTTL
	LinksPerAddress   int           // zero: DefaultLinksPerAddress
	RequestsPerClient int           // zero: DefaultRequestsPerClient

	clients limiter
	sends   sync.WaitGroup
}

func (s *Service) now() time.Time { return fidelis.UTC(s.Now()) }

func (s *Service) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}

func orDefault[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// system returns ctx acting as the portal itself: it looks an address up and sends
// messages, with the least role that may (the subject role, under data_protection).
func system(ctx context.Context) context.Context {
	return fidelis.WithActor(ctx, fidelis.SystemActor(sysActorID, fidelis.RoleSubject))
}

// token returns 32 random bytes (256 bits) in URL-safe base64, and their SHA-256: only the
// hash is stored.
func token() (string, []byte) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	t := base64.RawURLEncoding.EncodeToString(b)
	return t, hashToken(t)
}

func hashToken(t string) []byte {
	h := sha256.Sum256([]byte("fidelis-portal/v1|" + t))
	return h[:]
}

// validToken reports whether t has the form token returns, so that other text is refused
// before it reaches the database.
func validToken(t string) bool {
	if len(t) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(t)
	return err == nil
}

// LinkURL is the sign-in address of token in language lang.
func (s *Service) LinkURL(token, lang string) string {
	return strings.TrimRight(s.PublicURL, "/") + "/portal/signin?" + url.Values{"token": {token}, "lang": {lang}}.Encode()
}

// RequestLink sends a single-use sign-in link to address, if it belongs to a customer, in
// the customer's language. Whether it does is never told: the answer is the same for a known
// and an unknown address (no account enumeration), and the message leaves after this
// returns, so that the SMTP exchange does not show in the time taken. client names the requester (an IP
// address) for the rate limit; it is kept in memory only. Errors: EINVALID (not an e-mail
// address), ETOOMANY (too many requests from this client), EUNAVAILABLE (no mail server).
func (s *Service) RequestLink(ctx context.Context, address fidelis.Secret, client string) error {
	if s.Mailer == nil {
		return &fidelis.Error{Code: fidelis.EUNAVAILABLE, Reason: "mail_unavailable", Message: "sign-in by e-mail is not available: no mail server is configured"}
	}
	addr := strings.TrimSpace(address.Reveal())
	if a, err := mail.ParseAddress(addr); err != nil || a.Address != addr || len(addr) > 254 {
		return fidelis.Invalid(fidelis.FieldError{Field: "email", Rule: "invalid_email", Message: "is not a valid e-mail address"})
	}
	now := s.now()
	if !s.clients.allow(client, now, orDefault(s.RequestsPerClient, DefaultRequestsPerClient), LinkWindow) {
		return &fidelis.Error{Code: fidelis.ETOOMANY, Reason: "too_many_link_requests", Message: "too many sign-in requests from this connection; wait a few minutes and try again"}
	}
	sys := system(ctx)
	found, err := s.Customers.Search(sys, purposeDP, customer.Query{Email: fidelis.NewSecret(addr)})
	if err != nil {
		return err
	}
	if len(found) > maxAccountsPerAddress {
		found = found[:maxAccountsPerAddress]
	}
	ttl := orDefault(s.LinkTTL, DefaultLinkTTL)
	for _, c := range found {
		tok, hash := token()
		made := false
		err := s.Store.Write(sys, func(tx Tx) error {
			if _, err := tx.PurgePortal(sys, now.Add(-24*time.Hour)); err != nil {
				return err
			}
			n, err := tx.CountPortalLinks(sys, c.ID, now.Add(-LinkWindow))
			if err != nil {
				return err
			}
			if n >= orDefault(s.LinksPerAddress, DefaultLinksPerAddress) {
				// Nothing is sent and nothing said: the same answer as for anyone.
				return tx.AppendAudit(sys, s.Audit.Entry(sys, audit.Event{Action: ActLink, Subject: string(c.ID), Purpose: purposeDP, Outcome: audit.OutcomeDenied, Reason: "too_many_links"}))
			}
			made = true
			if err := tx.InsertPortalLink(sys, &Link{TokenHash: hash, CustomerID: c.ID, CreatedAt: now, ExpiresAt: now.Add(ttl)}); err != nil {
				return err
			}
			return tx.AppendAudit(sys, s.Audit.Entry(sys, audit.Event{Action: ActLink, Subject: string(c.ID), Purpose: purposeDP}))
		})
		if err != nil {
			return fmt.Errorf("selfservice.RequestLink: %w", err)
		}
		if !made {
			continue
		}
		lang := language(c)
		s.sendLater(ctx, c.ID, mailer.Message{Kind: mailer.KindMagicLink, Lang: lang, To: c.Get(fidelis.FieldEmail),
			Data: map[string]any{"link": fidelis.NewSecret(s.LinkURL(tok, lang)), "minutes": int(ttl / time.Minute)}})
	}
	return nil
}

// language is the customer's language, French unless their record says English.
func language(c *customer.Customer) string {
	if c.Get(fidelis.FieldLocale).Reveal() == "en" {
		return "en"
	}
	return "fr"
}

// sendLater sends m to customer id in the background and records it in the audit log
// (action message.send, reason "<kind>:<Message-ID>"; never the address or the body). Wait
// waits for the messages under way.
func (s *Service) sendLater(ctx context.Context, id fidelis.CustomerID, m mailer.Message) {
	s.sends.Add(1)
	ctx = system(context.WithoutCancel(ctx))
	go func() {
		defer s.sends.Done()
		s.send(ctx, id, m)
	}()
}

func (s *Service) send(ctx context.Context, id fidelis.CustomerID, m mailer.Message) {
	sctx, cancel := context.WithTimeout(ctx, sendTimeout)
	msgID, err := s.Mailer.Send(sctx, m)
	cancel()
	ev := audit.Event{Action: ActSendMail, Subject: string(id), Purpose: purposeDP, Fields: []fidelis.Field{fidelis.FieldEmail}, Reason: string(m.Kind) + ":" + msgID}
	if err != nil {
		ev.Outcome, ev.Reason = audit.OutcomeFailed, string(m.Kind)+":"+string(fidelis.ErrorCode(err))
		s.logger().WarnContext(ctx, "message to a customer failed", "customer", id, "kind", m.Kind, "err", err)
	}
	if rerr := s.Store.RecordAudit(ctx, s.Audit.Entry(ctx, ev)); rerr != nil {
		s.logger().ErrorContext(ctx, "recording a sent message failed", "customer", id, "kind", m.Kind, "err", rerr)
	}
}

// Wait waits until the messages under way are sent or given up; call it before closing the
// store.
func (s *Service) Wait() { s.sends.Wait() }

// Sign-in refusals. The messages are the same: whoever holds the link learns nothing more.
func linkRefused(reason string) error {
	return &fidelis.Error{Code: fidelis.EUNAUTHORIZED, Reason: reason,
		Message: "this sign-in link has expired or was already used; ask for a new one"}
}

// SignIn uses a link's token (once) and opens a session for its customer: it returns the
// session and its token, which only the browser keeps. A link that is unknown, expired or
// used already is EUNAUTHORIZED (reasons link_unknown, link_expired, link_used), and the
// refusal is audited when the link names a customer.
func (s *Service) SignIn(ctx context.Context, linkToken string) (*Session, string, error) {
	if !validToken(linkToken) {
		return nil, "", linkRefused("link_unknown")
	}
	now := s.now()
	hash := hashToken(linkToken)
	sessTok, sessHash := token()
	sess := &Session{CSRFToken: randomText(), CreatedAt: now, ExpiresAt: now.Add(orDefault(s.SessionTTL, DefaultSessionTTL))}
	var refused *audit.Event
	err := s.Store.Write(ctx, func(tx Tx) error {
		l, err := tx.PortalLink(ctx, hash)
		if fidelis.ErrorCode(err) == fidelis.ENOTFOUND {
			return linkRefused("link_unknown")
		} else if err != nil {
			return err
		}
		reason := ""
		switch {
		case l.UsedAt != nil:
			reason = "link_used"
		case !now.Before(l.ExpiresAt):
			reason = "link_expired"
		}
		if reason == "" {
			ok, err := tx.UsePortalLink(ctx, hash, now)
			if err != nil {
				return err
			}
			if !ok {
				reason = "link_used"
			}
		}
		if reason != "" {
			refused = &audit.Event{Action: ActSignIn, Subject: string(l.CustomerID), Purpose: purposeDP, Outcome: audit.OutcomeDenied, Reason: reason}
			return linkRefused(reason)
		}
		sess.CustomerID = l.CustomerID
		if err := tx.InsertPortalSession(ctx, sessHash, sess); err != nil {
			return err
		}
		actx := fidelis.WithActor(ctx, sess.Actor())
		return tx.AppendAudit(actx, s.Audit.Entry(actx, audit.Event{Action: ActSignIn, Subject: string(sess.CustomerID), Purpose: purposeDP}))
	})
	if refused != nil {
		sys := system(ctx)
		_ = s.Store.RecordAudit(sys, s.Audit.Entry(sys, *refused))
	}
	if err != nil {
		if fidelis.AsError(err) != nil && fidelis.ErrorCode(err) != fidelis.EINTERNAL {
			return nil, "", err
		}
		return nil, "", fmt.Errorf("selfservice.SignIn: %w", err)
	}
	if s.Activity != nil {
		if err := s.Activity.Touch(ctx, sess.CustomerID, ActivityKey, now); err != nil {
			s.logger().WarnContext(ctx, "recording portal activity failed", "customer", sess.CustomerID, "err", err)
		}
	}
	return sess, sessTok, nil
}

func randomText() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// errNoSession is the answer for a missing, unknown or expired session.
var errNoSession = &fidelis.Error{Code: fidelis.EUNAUTHORIZED, Reason: "no_session", Message: "please sign in"}

// Session returns the session of token; EUNAUTHORIZED if there is none, it expired, or its
// customer was erased.
func (s *Service) Session(ctx context.Context, sessionToken string) (*Session, error) {
	if !validToken(sessionToken) {
		return nil, errNoSession
	}
	var sess *Session
	err := s.Store.Read(ctx, func(tx Tx) (err error) {
		sess, err = tx.PortalSession(ctx, hashToken(sessionToken), s.now())
		return err
	})
	if fidelis.ErrorCode(err) == fidelis.ENOTFOUND {
		return nil, errNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("selfservice.Session: %w", err)
	}
	return sess, nil
}

// SignOut ends the session of token.
func (s *Service) SignOut(ctx context.Context, sessionToken string, sess *Session) error {
	if !validToken(sessionToken) {
		return nil
	}
	actx := fidelis.WithActor(ctx, sess.Actor())
	return s.Store.Write(ctx, func(tx Tx) error {
		if err := tx.DeletePortalSession(ctx, hashToken(sessionToken)); err != nil {
			return err
		}
		return tx.AppendAudit(actx, s.Audit.Entry(actx, audit.Event{Action: ActSignOut, Subject: string(sess.CustomerID), Purpose: purposeDP}))
	})
}

// limiter counts events per key in a sliding window, in memory: each node counts its own.
type limiter struct {
	mu    sync.Mutex
	hits  map[string][]time.Time
	calls int
}

// allow records an event for key at now and reports whether it is within max per window.
func (l *limiter) allow(key string, now time.Time, max int, window time.Duration) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.hits == nil {
		l.hits = map[string][]time.Time{}
	}
	// Now and then drop keys whose events all left the window, so memory stays bounded.
	if l.calls++; l.calls%1024 == 0 {
		for k, ts := range l.hits {
			if len(ts) == 0 || now.Sub(ts[len(ts)-1]) >= window {
				delete(l.hits, k)
			}
		}
	}
	ts := l.hits[key]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= window {
		i++
	}
	ts = ts[i:]
	if len(ts) >= max {
		l.hits[key] = ts
		return false
	}
	l.hits[key] = append(ts, now)
	return true
}
