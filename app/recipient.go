package app

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fidelis/fidelis/recipient"
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
