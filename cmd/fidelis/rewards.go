package main

import (
	"fmt"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
)

// rewardsConfig reads the rewards settings: FIDELIS_REFERRAL_URL (the join page referral
// links point to) and FIDELIS_RESERVATION_TTL (how long a reward reservation holds points
// and stock, e.g. 15m).
func rewardsConfig(cfg *app.Config) error {
	if s := env("FIDELIS_REFERRAL_URL", ""); s != "" {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Fragment != "" {
			return fidelis.Invalid(fidelis.FieldError{Field: "FIDELIS_REFERRAL_URL", Rule: "invalid_url", Message: "must be an http(s) URL of the join page"})
		}
		cfg.ReferralBaseURL = s
	}
	if s := env("FIDELIS_RESERVATION_TTL", ""); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < time.Minute || d > 24*time.Hour {
			return fidelis.Invalid(fidelis.FieldError{Field: "FIDELIS_RESERVATION_TTL", Rule: "out_of_range", Message: "must be a duration from 1m to 24h"})
		}
		cfg.ReservationTTL = d
	}
	return nil
}

func parseNow(at string) (time.Time, error) {
	if at == "" {
		return time.Now(), nil
	}
	t, err := time.Parse(time.RFC3339, at)
	if err != nil {
		return time.Time{}, fidelis.Invalid(fidelis.FieldError{Field: "now", Rule: "invalid_date", Message: "must be an RFC 3339 time"})
	}
	return t, nil
}

// tiersCmd is `fidelis loyalty tiers review`.
func tiersCmd(o *options) *cobra.Command {
	c := &cobra.Command{Use: "tiers", Short: "Loyalty tiers (L-3)"}
	var dry bool
	var at string
	review := &cobra.Command{
		Use:   "review",
		Short: "Run the periodic tier review now: downgrade members below their tier's threshold, upgrade those above",
		Long: "review re-evaluates every member of every programme with tiers over the qualification\n" +
			"period ending now, under the tier schedule stated in the terms that govern them, and records\n" +
			"each change with its reason in French and English. serve runs it once a month by itself.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			now, err := parseNow(at)
			if err != nil {
				return err
			}
			a, err := open(cmd, o)
			if err != nil {
				return err
			}
			defer a.Close()
			r, err := a.ReviewTiers(cmd.Context(), now, dry)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, ch := range r.Changes {
				fmt.Fprintf(out, "%s\t%s\t%s\t%s -> %s\t%s\n", ch.Programme, ch.Customer, ch.Direction, tierName(ch.From), tierName(ch.To), ch.Reason.EN)
			}
			verb := "reviewed"
			if dry {
				verb = "reviewed (dry run, nothing written)"
			}
			fmt.Fprintf(out, "%s %d members: %d upgrades, %d downgrades\n", verb, r.Members, r.Upgrades, r.Downgrades)
			return nil
		},
	}
	review.Flags().BoolVar(&dry, "dry-run", false, "report the changes without writing anything")
	review.Flags().StringVar(&at, "now", "", "review as of this RFC 3339 time instead of now")
	c.AddCommand(review)
	return c
}

func tierName(id string) string {
	if id == "" {
		return "(none)"
	}
	return id
}

// reservationsCmd is `fidelis loyalty reservations expire`.
func reservationsCmd(o *options) *cobra.Command {
	c := &cobra.Command{Use: "reservations", Short: "Reward reservations (L-7)"}
	var at string
	expire := &cobra.Command{
		Use:   "expire",
		Short: "Give back the points and stock of reservations whose hold ended (serve does it every minute)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			now, err := parseNow(at)
			if err != nil {
				return err
			}
			a, err := open(cmd, o)
			if err != nil {
				return err
			}
			defer a.Close()
			n, err := a.ExpireReservations(cmd.Context(), now)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "released %d expired reservations\n", n)
			return nil
		},
	}
	expire.Flags().StringVar(&at, "now", "", "run as of this RFC 3339 time instead of now")
	c.AddCommand(expire)
	return c
}
