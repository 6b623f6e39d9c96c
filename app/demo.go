package app

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/customer"
	"github.com/fidelis/fidelis/demo"
)

// LoadDemo fills the database with count deterministic synthetic customers (seed), in
// batches of one transaction each, writing a progress line to progress.
func (a *App) LoadDemo(ctx context.Context, count int, seed uint64, progress io.Writer) error {
	ctx = SystemContext(ctx, "demo", fidelis.RoleAdmin)
	const batch = 500
	start := time.Now()
	inputs := make([]customer.Input, 0, batch)
	done := 0
	flush := func() error {
		if len(inputs) == 0 {
			return nil
		}
		if _, err := a.Customers.CreateMany(ctx, fidelis.PurposeCustomerService, inputs); err != nil {
			return fmt.Errorf("demo: load customers %d..%d: %w", done, done+len(inputs)-1, err)
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
