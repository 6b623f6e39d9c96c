package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func webhooksCmd(o *options) *cobra.Command {
	c := &cobra.Command{Use: "webhooks", Short: "Webhook notifications to recipients (R-9)"}
	c.AddCommand(&cobra.Command{
		Use:   "deliver",
		Short: "Run one delivery pass now: fan out pending events, attempt every delivery due",
		Long: "deliver does once what 'fidelis serve' does every second: every event of the outbox not yet\n" +
			"dispatched becomes one delivery per matching recipient, and every delivery due now is posted\n" +
			"once, signed. Failed deliveries wait for their backoff; it is safe beside running servers.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := open(cmd, o)
			if err != nil {
				return err
			}
			defer a.Close()
			st, err := a.DeliverWebhooks(cmd.Context())
			if err != nil {
				return err
			}
			if _, err := a.Sealer.SealAll(cmd.Context()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "events dispatched: %d, deliveries: %d delivered, %d failed (will be retried), %d dead\n",
				st.Events, st.Delivered, st.Failed, st.Dead)
			return nil
		},
	})
	return c
}
