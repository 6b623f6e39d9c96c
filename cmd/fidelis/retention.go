package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/retention"
)

// retentionConfig reads the retention settings from the environment (docs/operations.md).
func retentionConfig(cfg *app.Config) error {
	if s := env("FIDELIS_RETENTION_GRACE_DAYS", ""); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 365 {
			return fidelis.Invalid(fidelis.FieldError{Field: "FIDELIS_RETENTION_GRACE_DAYS", Rule: "out_of_range", Message: "must be a number of days from 1 to 365"})
		}
		cfg.RetentionGrace = time.Duration(n) * 24 * time.Hour
	}
	if s := env("FIDELIS_RETENTION_INTERVAL_HOURS", ""); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 24*31 {
			return fidelis.Invalid(fidelis.FieldError{Field: "FIDELIS_RETENTION_INTERVAL_HOURS", Rule: "out_of_range", Message: "must be a number of hours from 1 to 744, or 0 to run retention only by hand"})
		}
		cfg.RetentionInterval = time.Duration(n) * time.Hour
		if n == 0 {
			cfg.RetentionInterval = -1
		}
	}
	return nil
}

// retentionCmd groups the retention commands (T-1..T-8).
func retentionCmd(o *options) *cobra.Command {
	c := &cobra.Command{Use: "retention", Short: "Retention rules, runs and legal holds (T-1..T-8)"}
	c.AddCommand(&cobra.Command{
		Use:   "rules",
		Short: "List the retention rules in force: CNIL defaults and overrides",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := open(cmd, o)
			if err != nil {
				return err
			}
			defer a.Close()
			rules, err := a.Retention.Rules(app.SystemContext(cmd.Context(), "cli", fidelis.RoleDPO))
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "RULE\tNAME\tMONTHS\tDEFAULT\tNOTICE\tOUTCOME\tOVERRIDE")
			for _, r := range rules {
				notice, ov := string(r.Notice), "-"
				if notice == "" {
					notice = "-"
				}
				if r.Override != nil {
					ov = fmt.Sprintf("by %s on %s: %s", r.Override.By, r.Override.At.Format(time.DateOnly), r.Override.Reason)
				}
				fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%s\t%s\t%s\n", r.ID, r.Name.EN, r.Months, r.DefaultMonths, notice, r.Outcome, ov)
			}
			return w.Flush()
		},
	})
	var dry bool
	run := &cobra.Command{
		Use:   "run",
		Short: "Apply retention now: notices, archive, erasure; --dry-run reports without changing anything",
		Long: "run decides for every customer what retention does now (T-1..T-8) and does it: sends the\n" +
			"renewal request (T-1) or the warning (T-3) once, archives customers whose active period ended,\n" +
			"erases those whose archive or grace period ended, and leaves customers on legal hold alone.\n" +
			"It prints the counts, then one line per customer with something due: the action, the rule,\n" +
			"the customer ID (no personal data), the last activity, the due date and the reason.\n" +
			"Exit status: 0; 6 when some customers could not be processed (lines marked failed; the next\n" +
			"run retries them); 1 when another node is running it.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := open(cmd, o)
			if err != nil {
				return err
			}
			defer a.Close()
			errw := cmd.ErrOrStderr()
			last := 0
			progress := func(n int) {
				if n/1000 > last {
					last = n / 1000
					fmt.Fprintf(errw, "retention: %d customers scanned\n", n)
				}
			}
			rep, err := a.RunRetention(cmd.Context(), dry, progress)
			if err != nil {
				return err
			}
			printReport(cmd.OutOrStdout(), rep)
			if rep.Failures > 0 {
				return &fidelis.Error{Code: fidelis.EUNAVAILABLE, Reason: "retention_failures",
					Message: fmt.Sprintf("%d customer(s) could not be processed (lines marked failed); the next run retries them", rep.Failures)}
			}
			return nil
		},
	}
	run.Flags().BoolVar(&dry, "dry-run", false, "report what would be done without sending, archiving or erasing anything")
	c.AddCommand(run, holdCmd(o))
	return c
}

// printReport writes the counts, then the lines: IDs, codes and dates only.
func printReport(out io.Writer, rep *retention.Report) {
	mode := "run"
	if rep.DryRun {
		mode = "dry run (nothing changed)"
	}
	fmt.Fprintf(out, "retention %s at %s: %d customers scanned in %s\n", mode, rep.At.Format(time.RFC3339), rep.Scanned, rep.Duration.Round(time.Millisecond))
	var counts []string
	for _, act := range retention.Actions() {
		counts = append(counts, fmt.Sprintf("%s=%d", act, rep.Counts[act]))
	}
	fmt.Fprintln(out, strings.Join(counts, " "))
	if len(rep.Lines) == 0 {
		return
	}
	retention.SortLines(rep.Lines)
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ACTION\tRULE\tCUSTOMER\tCATEGORY\tLAST ACTIVITY\tDUE\tACT AT\tREASON")
	for _, d := range rep.Lines {
		reason := d.Reason
		if len(d.Holds) > 0 {
			reason += " (" + strings.Join(d.Holds, ", ") + ")"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.Action, d.Rule, d.CustomerID, d.Category,
			d.LastActivity.Format(time.DateOnly), d.Due.Format(time.DateOnly), d.ActAt.Format(time.DateOnly), reason)
	}
	w.Flush()
}

// holdCmd places, lifts and lists legal holds (T-8), as the DPO, under data_protection.
func holdCmd(o *options) *cobra.Command {
	c := &cobra.Command{Use: "hold", Short: "Legal holds: suspend retention for a named case (T-8)"}
	var customerID, caseRef, reason, holdID string
	var all bool
	place := &cobra.Command{
		Use:   "place",
		Short: "Put a customer on legal hold for a case, with a reason",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := open(cmd, o)
			if err != nil {
				return err
			}
			defer a.Close()
			h, err := a.Retention.PlaceHold(app.SystemContext(cmd.Context(), "cli", fidelis.RoleDPO), fidelis.PurposeDataProtection,
				fidelis.CustomerID(customerID), retention.HoldInput{Case: caseRef, Reason: reason})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "legal hold %s placed on %s for case %s\n", h.ID, h.CustomerID, h.Case)
			return nil
		},
	}
	place.Flags().StringVar(&customerID, "customer", "", "the customer's ID (cus_...)")
	place.Flags().StringVar(&caseRef, "case", "", "the case's reference (letters, digits, . _ / -)")
	place.Flags().StringVar(&reason, "reason", "", "why the data must be kept (no personal data)")
	lift := &cobra.Command{
		Use:   "lift",
		Short: "Lift a legal hold, with the reason",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := open(cmd, o)
			if err != nil {
				return err
			}
			defer a.Close()
			h, err := a.Retention.LiftHold(app.SystemContext(cmd.Context(), "cli", fidelis.RoleDPO), fidelis.PurposeDataProtection,
				fidelis.CustomerID(customerID), holdID, reason)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "legal hold %s lifted (case %s)\n", h.ID, h.Case)
			return nil
		},
	}
	lift.Flags().StringVar(&customerID, "customer", "", "the customer's ID (cus_...)")
	lift.Flags().StringVar(&holdID, "hold", "", "the hold's ID (hld_...)")
	lift.Flags().StringVar(&reason, "reason", "", "why the hold ends")
	list := &cobra.Command{
		Use:   "list",
		Short: "List legal holds in force (--all: lifted ones too)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := open(cmd, o)
			if err != nil {
				return err
			}
			defer a.Close()
			hs, err := a.Retention.Holds(app.SystemContext(cmd.Context(), "cli", fidelis.RoleDPO), retention.HoldFilter{CustomerID: fidelis.CustomerID(customerID), ActiveOnly: !all})
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "HOLD\tCUSTOMER\tCASE\tPLACED\tLIFTED")
			for _, h := range hs {
				lifted := "-"
				if h.LiftedAt != nil {
					lifted = h.LiftedAt.Format(time.DateOnly)
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", h.ID, h.CustomerID, h.Case, h.PlacedAt.Format(time.DateOnly), lifted)
			}
			if err := w.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d legal hold(s)\n", len(hs))
			return nil
		},
	}
	list.Flags().StringVar(&customerID, "customer", "", "only this customer's holds")
	list.Flags().BoolVar(&all, "all", false, "include lifted holds")
	c.AddCommand(place, lift, list)
	return c
}
