package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
)

// ledgerVerifyError marks a failed loyalty ledger verification; it exits with status 3,
// like a failed audit verification.
type ledgerVerifyError struct{ first string }

func (e *ledgerVerifyError) Error() string {
	return "loyalty ledger verification FAILED: first problem: " + e.first
}

func (e *ledgerVerifyError) Unwrap() error { return &verifyError{first: e.first} }

func loyaltyCmd(o *options) *cobra.Command {
	c := &cobra.Command{Use: "loyalty", Short: "Loyalty ledger operations: verify, expire, liability, tiers review, reservations expire"}
	c.AddCommand(&cobra.Command{
		Use:   "verify",
		Short: "Re-derive the points ledger and check every invariant (L-6, L-7)",
		Long: "verify checks, for every programme, that each transaction is balanced (its postings sum\n" +
			"to zero) and cites a published rule and terms version, that each member's stored balance and debt equal the sums of their postings,\n" +
			"that each lot's remaining points equal what its postings left and are never negative,\n" +
			"that a member's open lots add up to their balance, and that every idempotency key names\n" +
			"what it produced. It exits 0 if all hold, and 3 listing every break otherwise.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := open(cmd, o)
			if err != nil {
				return err
			}
			defer a.Close()
			r, err := a.Loyalty.Verify(app.SystemContext(cmd.Context(), "cli", fidelis.RoleAdmin))
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "programmes: %d, transactions: %d, members: %d, lots: %d, idempotency keys: %d, reservations: %d\n", r.Programmes, r.Transactions, r.Members, r.Lots, r.Keys, r.Reservations)
			if r.OK() {
				fmt.Fprintln(out, "loyalty ledger OK")
				return nil
			}
			for _, p := range r.Problems {
				fmt.Fprintln(out, "PROBLEM:", p)
			}
			return &ledgerVerifyError{first: r.Problems[0].String()}
		},
	})
	var dry bool
	var at string
	expire := &cobra.Command{
		Use:   "expire",
		Short: "Expire due points (oldest lots first) and send advance notices of expiry (L-4)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			now := time.Now()
			if at != "" {
				t, err := time.Parse(time.RFC3339, at)
				if err != nil {
					return fidelis.Invalid(fidelis.FieldError{Field: "now", Rule: "invalid_date", Message: "must be an RFC 3339 time"})
				}
				now = t
			}
			a, err := open(cmd, o)
			if err != nil {
				return err
			}
			defer a.Close()
			r, err := a.ExpireLoyalty(cmd.Context(), now, dry)
			if err != nil {
				return err
			}
			verb := "expired"
			if dry {
				verb = "would expire (dry run, nothing written)"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %d points in %d transactions; %d advance notices\n", verb, r.Points, r.Transactions, r.Notices)
			return nil
		},
	}
	expire.Flags().BoolVar(&dry, "dry-run", false, "report what would expire without writing anything")
	expire.Flags().StringVar(&at, "now", "", "run as of this RFC 3339 time instead of now (for catching up)")
	c.AddCommand(expire)
	var programme, date string
	liability := &cobra.Command{
		Use:   "liability",
		Short: "Outstanding points and their value at the end of a date, per programme (L-6)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			at := time.Now()
			if date != "" {
				d, err := time.Parse(time.DateOnly, date)
				if err != nil {
					return fidelis.Invalid(fidelis.FieldError{Field: "at", Rule: "invalid_date", Message: "must be a date as YYYY-MM-DD"})
				}
				at = d.AddDate(0, 0, 1).Add(-time.Microsecond)
			}
			a, err := open(cmd, o)
			if err != nil {
				return err
			}
			defer a.Close()
			ctx := app.SystemContext(cmd.Context(), "cli", fidelis.RoleAdmin)
			ids := []string{programme}
			if programme == "" {
				ps, err := a.Loyalty.Programmes(ctx)
				if err != nil {
					return err
				}
				ids = ids[:0]
				for _, p := range ps {
					ids = append(ids, p.ID)
				}
			}
			out := cmd.OutOrStdout()
			for _, id := range ids {
				l, err := a.Loyalty.Liability(ctx, id, at)
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "%s\t%s\tat %s\t%d points\t%d.%02d %s\n", l.Programme.ID, l.Programme.Name, l.At.Format(time.RFC3339), l.Points, l.ValueCents/100, l.ValueCents%100, l.Programme.Currency)
			}
			return nil
		},
	}
	liability.Flags().StringVar(&programme, "programme", "", "programme ID (lpg_...); all programmes when empty")
	liability.Flags().StringVar(&date, "at", "", "date YYYY-MM-DD: the liability at the end of that day (UTC); now when empty")
	c.AddCommand(liability)
	c.AddCommand(tiersCmd(o), reservationsCmd(o))
	return c
}
