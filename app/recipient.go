package app

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fidelis/fidelis/recipient"
	"github.com/fidelis/fidelis/register"
	"github.com/fidelis/fidelis/store"
	"github.com/fidelis/fidelis/webhook"
)

// wireRecipients builds the recipients registry and the webhook dispatcher, with a
// Prometheus counter of delivery attempts by outcome.
func (a *App) wireRecipients() {
	st := store.Recipients{DB: a.DB}
	a.Recipients = &recipient.Service{Store: st, Vault: a.Vault, Registry: a.Registry, Audit: a.AuditLog, Now: a.Config.Now}
	attempts := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "fidelis_webhook_deliveries_total",
		Help: "Webhook delivery attempts by outcome: delivered, failed (will be retried), dead (no more attempts).",
	}, []string{"outcome"})
	for _, o := range []string{recipient.OutcomeDelivered, recipient.OutcomeFailed, recipient.OutcomeDead} {
		attempts.WithLabelValues(o) // present at zero, so that alerts on rates work from the start
	}
	a.Metrics.MustRegister(attempts)
	p := a.Config.WebhookPolicy
	a.Dispatcher = &recipient.Dispatcher{
		Store: st, Vault: a.Vault, Audit: a.AuditLog, Now: a.Config.Now, Policy: p, Logger: a.Logger,
		Sender:  &webhook.Sender{Timeout: p.Timeout},
		Observe: func(outcome string) { attempts.WithLabelValues(outcome).Inc() },
	}
}

// registerRecipients lists the active recipients of the registry (D-4) as the register of
// processing and the privacy notice show them (D-2, R-5): both are generated from what is
// recorded at the time of the request, never from a copy that could drift.
func (a *App) registerRecipients(ctx context.Context) ([]register.Recipient, error) {
	rs, err := a.Recipients.All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]register.Recipient, 0, len(rs))
	for _, r := range rs {
		if !r.Active {
			continue
		}
		out = append(out, register.Recipient{Name: r.Name, Kind: registerKind(r.Kind), Purposes: r.Purposes, Country: r.Country, Safeguard: registerSafeguard(r.Safeguard)})
	}
	return out, nil
}

// registerKind maps a registry kind to the register's: a recipient that is neither a
// processor nor a joint controller is a third party (art. 4(10)).
func registerKind(k recipient.Kind) register.RecipientKind {
	switch k {
	case recipient.KindProcessor:
		return register.KindProcessor
	case recipient.KindJointController:
		return register.KindJointController
	}
	return register.KindThirdParty
}

func registerSafeguard(s recipient.Safeguard) string {
	switch s {
	case recipient.SafeguardAdequacy:
		return register.SafeguardAdequacy
	case recipient.SafeguardSCC:
		return register.SafeguardSCC
	case recipient.SafeguardBCR:
		return register.SafeguardBCR
	case recipient.SafeguardDerogation:
		return register.SafeguardDerogation
	}
	return string(s)
}

func (a *App) webhookInterval() time.Duration {
	if a.Config.WebhookInterval <= 0 {
		return time.Second
	}
	return a.Config.WebhookInterval
}

// DeliverWebhooks runs one dispatcher pass: every pending outbox event is fanned out, and
// every delivery due now is attempted once (fidelis webhooks deliver).
func (a *App) DeliverWebhooks(ctx context.Context) (recipient.Stats, error) {
	return a.Dispatcher.RunOnce(ctx)
}
