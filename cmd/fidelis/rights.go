package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/rights"
)

// rightsConfig reads the retention settings of rights requests, erasure receipts and the
// suppression list from the environment (documented in docs/operations.md).
func rightsConfig(cfg *app.Config) error {
	for _, v := range []struct {
		name string
		dst  *time.Duration
	}{{"FIDELIS_BACKUP_RETENTION_DAYS", &cfg.BackupRetention}, {"FIDELIS_SUPPRESSION_DAYS", &cfg.SuppressionPeriod}} {
		if s := env(v.name, ""); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > 36500 {
				return fidelis.Invalid(fidelis.FieldError{Field: v.name, Rule: "out_of_range", Message: "must be a number of days from 1 to 36500"})
			}
			*v.dst = time.Duration(n) * 24 * time.Hour
		}
	}
	if s := env("FIDELIS_RIGHTS_DUE_SOON_DAYS", ""); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 60 {
			return fidelis.Invalid(fidelis.FieldError{Field: "FIDELIS_RIGHTS_DUE_SOON_DAYS", Rule: "out_of_range", Message: "must be a number of days from 1 to 60"})
		}
		cfg.RightsDueSoonDays = n
	}
	return nil
}

// rightsCmd lists rights requests by deadline; suppressionCmd purges the suppression list.
func rightsCmd(o *options) *cobra.Command {
	c := &cobra.Command{Use: "rights", Short: "Data subject requests (GDPR art. 12-22)"}
	c.AddCommand(&cobra.Command{
		Use:   "deadlines",
		Short: "List open rights requests by due date, with overdue and due-soon ones flagged",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := open(cmd, o)
			if err != nil {
				return err
			}
			defer a.Close()
			ctx := app.SystemContext(cmd.Context(), "rights-deadlines", fidelis.RoleDPO)
			out := cmd.OutOrStdout()
			q := rights.Query{Filter: rights.Filter{Status: []rights.Status{rights.StatusReceived, rights.StatusInProgress, rights.StatusExtended}}, Limit: rights.MaxPageSize}
			n := 0
			for {
				page, err := a.Rights.List(ctx, fidelis.PurposeDataProtection, q)
				if err != nil {
					return err
				}
				for _, c := range page.Items {
					fmt.Fprintf(out, "%s  %-9s %-14s %-11s %s  %s\n", c.Due.Format(rights.DateLayout), a.Rights.Deadline(c), c.Kind, c.Status, c.ID, c.CustomerID)
					n++
				}
				if q.Cursor = page.Next; q.Cursor == "" {
					break
				}
			}
			fmt.Fprintf(out, "%d open request(s)\n", n)
			return nil
		},
	})
	return c
}

func suppressionCmd(o *options) *cobra.Command {
	c := &cobra.Command{Use: "suppression", Short: "The suppression list of erased and objecting people (R-15)"}
	c.AddCommand(&cobra.Command{
		Use:   "purge",
		Short: "Delete suppression entries whose period has ended (3 years by default)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := open(cmd, o)
			if err != nil {
				return err
			}
			defer a.Close()
			n, err := a.Customers.PurgeSuppressions(app.SystemContext(cmd.Context(), "suppression-purge", fidelis.RoleDPO))
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "expired suppression entries deleted: %d\n", n)
			return nil
		},
	})
	return c
}
