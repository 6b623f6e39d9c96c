package selfservice

import (
	"context"
	"strings"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/mailer"
	"github.com/fidelis/fidelis/rights"
)

var _ rights.Notifier = (*Service)(nil)

// quietKey marks a context whose rights requests are answered on the spot in the portal
// (instant downloads): the answer is the download itself, no letter follows.
type quietKey struct{}

func quiet(ctx context.Context) context.Context { return context.WithValue(ctx, quietKey{}, true) }

// Prepare implements rights.Notifier: a request made by electronic means (e-mail, portal,
// API) is acknowledged and answered by e-mail, in the customer's language: received
// with its due date, extended with the reasons, refused with the reasons and
// the right to complain to the CNIL, completed. The address is read now, before an
// erasure removes it. Nothing is sent without a mail server, for a request by post, phone
// or in person, or to a customer without an e-mail address (logged).
func (s *Service) Prepare(ctx context.Context, c *rights.Case) func(context.Context, *rights.Case) {
	if s.Mailer == nil || !c.Channel.Electronic() || ctx.Value(quietKey{}) != nil {
		return nil
	}
	to, lang, err := s.contact(ctx, c.CustomerID)
	if err != nil {
		s.logger().WarnContext(ctx, "rights letter not sent: no address", "case", c.ID, "customer", c.CustomerID, "code", fidelis.ErrorCode(err))
		return nil
	}
	return func(ctx context.Context, done *rights.Case) {
		if m, ok := letter(done, lang); ok {
			m.To = to
			s.sendLater(ctx, done.CustomerID, m)
		}
	}
}

// letter is the message telling the person where case c stands, if any.
func letter(c *rights.Case, lang string) (mailer.Message, bool) {
	m := mailer.Message{Lang: lang, Data: map[string]any{"reference": c.ID, "right": string(c.Kind)}}
	switch c.Status {
	case rights.StatusReceived:
		m.Kind = mailer.KindRightsReceived
		m.Data["received"], m.Data["due"] = c.ReceivedAt, c.Due
	case rights.StatusExtended:
		if c.Extension == nil {
			return m, false
		}
		var rs []string
		for _, r := range c.Extension.Reasons {
			rs = append(rs, rights.ExtensionReasonText(r).In(lang))
		}
		m.Kind = mailer.KindRightsExtended
		m.Data["due"], m.Data["reasons"] = c.Due, strings.Join(rs, " ; ")
	case rights.StatusRefused:
		if c.Refusal == nil {
			return m, false
		}
		var rs []string
		for _, r := range c.Refusal.Reasons {
			rs = append(rs, rights.RefusalReasonText(r).In(lang))
		}
		m.Kind = mailer.KindRightsRefused
		m.Data["reasons"] = strings.Join(rs, " ; ")
	case rights.StatusCompleted:
		m.Kind = mailer.KindRightsCompleted
		// An erasure closes the customer area with the data: the letter itself says what
		// was done, what is kept and when no backup holds the key any more.
		if a := c.Answer; c.Kind == rights.KindErasure && a != nil && a.ErasureEffectiveAt != nil {
			m.Kind = mailer.KindRightsErased
			m.Data["effective"] = *a.ErasureEffectiveAt
			delete(m.Data, "right")
		}
	default:
		return m, false
	}
	return m, true
}
