package app

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/consent"
	"github.com/fidelis/fidelis/customer"
	"github.com/fidelis/fidelis/demo"
	"github.com/fidelis/fidelis/privacy"
)

// LoadDemo fills the database with count deterministic synthetic customers (seed), in
// batches of one transaction each, writing a progress line to progress.
func (a *App) LoadDemo(ctx context.Context, count int, seed uint64, progress io.Writer) error {
	ctx = SystemContext(ctx, "demo", fidelis.RoleAdmin)
	const batch = 500
	start := time.Now()
	inputs := make([]customer.Input, 0, batch)
	done := 0
	var first []fidelis.CustomerID
	flush := func() error {
		if len(inputs) == 0 {
			return nil
		}
		ids, err := a.Customers.CreateMany(ctx, fidelis.PurposeCustomerService, inputs)
		if err != nil {
			return fmt.Errorf("demo: load customers %d..%d: %w", done, done+len(inputs)-1, err)
		}
		if first == nil {
			first = ids
		}
		done += len(inputs)
		inputs = inputs[:0]
		fmt.Fprintf(progress, "\rLoading demo data: %d/%d customers (%d%%)", done, count, done*100/count)
		return nil
	}
	err := demo.Stream(demo.Options{Seed: seed, Count: count, Now: a.Config.Now()}, func(_ int, p demo.Person) error {
		inputs = append(inputs, personInput(p))
		if len(inputs) == batch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err == nil {
		err = a.loadDemoConsents(ctx, first[:min(len(first), demoConsents)])
	}
	if err != nil {
		fmt.Fprintln(progress)
		return err
	}
	fmt.Fprintf(progress, "\rLoaded %d demo customers in %s.          \n", done, time.Since(start).Round(time.Millisecond))
	return nil
}

func personInput(p demo.Person) customer.Input {
	set := map[fidelis.Field]fidelis.Secret{}
	put := func(f fidelis.Field, v string) {
		if v != "" {
			set[f] = fidelis.NewSecret(v)
		}
	}
	put(fidelis.FieldGivenName, p.GivenName)
	put(fidelis.FieldFamilyName, p.FamilyName)
	put(fidelis.FieldEmail, p.Email)
	put(fidelis.FieldPhone, p.Phone)
	put(fidelis.FieldBirthDate, p.BirthDate)
	put(fidelis.FieldStreet, p.Street)
	put(fidelis.FieldPostalCode, p.PostalCode)
	put(fidelis.FieldCity, p.City)
	put(fidelis.FieldCountry, p.Country)
	put(fidelis.FieldLocale, p.Locale)
	attrs := map[string]fidelis.Secret{}
	for k, v := range p.Attributes {
		attrs[k] = fidelis.NewSecret(v)
	}
	return customer.Input{Set: set, Attributes: attrs}
}

// CountCustomers returns how many customers are stored (without reading personal data).
func (a *App) CountCustomers(ctx context.Context) (int64, error) { return a.DB.CountCustomers(ctx) }

// demoConsents is how many demo customers get consent records: enough for the listings under
// the marketing purposes and the consent pages to show every case.
const demoConsents = 200

// loadDemoConsents publishes the consent notices of the marketing purposes and records,
// for the first customers, decisions of every kind as an import of paper forms would
// (C-1): grants, refusals, a grant later withdrawn (C-2), SMS grants.
func (a *App) loadDemoConsents(ctx context.Context, ids []fidelis.CustomerID) error {
	notices := map[fidelis.Purpose]fidelis.Text{
		fidelis.PurposeMarketingEmail: {FR: "J'accepte de recevoir par courriel les offres et nouveautés de la boutique. Je peux retirer mon accord à tout moment, en un clic.",
			EN: "I agree to receive the shop's offers and news by e-mail. I can withdraw my consent at any time, in one click."},
		fidelis.PurposeMarketingSMS: {FR: "J'accepte de recevoir par SMS les offres de la boutique. Répondez STOP pour ne plus en recevoir.",
			EN: "I agree to receive the shop's offers by text message. Reply STOP to receive no more."},
	}
	version := map[fidelis.Purpose]int{}
	for _, p := range []fidelis.Purpose{fidelis.PurposeMarketingEmail, fidelis.PurposeMarketingSMS} {
		n, err := a.Consents.LatestNotice(ctx, p)
		if err != nil {
			if n, err = a.Consents.PublishNotice(ctx, p, notices[p]); err != nil {
				return fmt.Errorf("demo: publish consent notice: %w", err)
			}
		}
		version[p] = n.Version
	}
	collected := a.Config.Now().AddDate(0, -4, 0)
	record := func(id fidelis.CustomerID, p fidelis.Purpose, c privacy.Channel, d privacy.ConsentDecision, at time.Time) error {
		in := consent.Input{Purpose: p, Channel: c, Decision: d, Method: consent.MethodImport, Reference: "DEMO-FORMS", CollectedAt: at}
		if d != privacy.ConsentWithdrawn {
			in.NoticeVersion = version[p]
		}
		if _, _, err := a.Consents.Record(ctx, fidelis.PurposeCustomerService, id, in); err != nil {
			return fmt.Errorf("demo: record consent: %w", err)
		}
		return nil
	}
	for i, id := range ids {
		at := collected.Add(time.Duration(i) * time.Hour)
		var err error
		switch i % 5 {
		case 0, 1:
			err = record(id, fidelis.PurposeMarketingEmail, privacy.ChannelEmail, privacy.ConsentGranted, at)
		case 2:
			err = record(id, fidelis.PurposeMarketingEmail, privacy.ChannelEmail, privacy.ConsentRefused, at)
		case 3:
			if err = record(id, fidelis.PurposeMarketingEmail, privacy.ChannelEmail, privacy.ConsentGranted, at); err == nil {
				err = record(id, fidelis.PurposeMarketingEmail, privacy.ChannelEmail, privacy.ConsentWithdrawn, at.AddDate(0, 2, 0))
			}
		}
		if err == nil && i%3 == 0 {
			err = record(id, fidelis.PurposeMarketingSMS, privacy.ChannelSMS, privacy.ConsentGranted, at)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
