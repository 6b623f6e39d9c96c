package loyalty_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/customer"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/loyalty"
)

// clock is a test clock that moves 1ms at every reading (so IDs sort in order) and can
// jump forward.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, time.March, 14, 15, 9, 26, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is one installation with a programme whose terms v1 are in force and a base rule
// of 1 point per EUR.
type env struct {
	t     testing.TB
	a     *app.App
	clock *clock
	svc   *loyalty.Service
	prog  string
	mgr   context.Context // loyalty_manager
	admin context.Context
}

func as(job string, role fidelis.Role) context.Context {
	return app.SystemContext(context.Background(), job, role)
}

var mediator = loyalty.Mediator{Name: "Médiateur du e-commerce de la FEVAD", Website: "https://www.mediateurfevad.fr", Address: "60 rue La Boétie, 75008 Paris"}

func newEnv(t testing.TB, b fidelistest.Backend) *env {
	t.Helper()
	c := newClock()
	a := fidelistest.MustApp(t, b, fidelistest.Options{Now: c.Now})
	e := &env{t: t, a: a, clock: c, svc: a.Loyalty, mgr: as("till", fidelis.RoleLoyaltyManager), admin: as("admin", fidelis.RoleAdmin)}
	p, err := e.svc.CreateProgramme(e.admin, loyalty.ProgrammeInput{Name: "Club Fidelis", Currency: "EUR", PointValueCents: 1})
	if err != nil {
		t.Fatalf("CreateProgramme: %v", err)
	}
	e.prog = p.ID
	if _, err := e.svc.PublishTerms(e.admin, p.ID, loyalty.TermsInput{
		Text:     loyalty.Text{FR: "Conditions générales du Club, version 1.", EN: "Club terms and conditions, version 1."},
		Mediator: mediator, ExpiryMonths: 12,
	}); err != nil {
		t.Fatalf("PublishTerms: %v", err)
	}
	if _, err := e.svc.CreateRule(e.admin, loyalty.Rule{Programme: p.ID, ID: "base", Name: loyalty.Text{FR: "Base", EN: "Base"}, PointsPerUnit: 1}); err != nil {
		t.Fatalf("CreateRule: %v", err)
	}
	return e
}

// customer creates a customer with only a name: no consent of any kind.
func (e *env) customer() fidelis.CustomerID {
	e.t.Helper()
	c, err := e.a.Customers.Create(e.mgr, fidelis.PurposeLoyalty, customer.Input{Set: map[fidelis.Field]fidelis.Secret{
		fidelis.FieldGivenName: fidelis.NewSecret("Camille"), fidelis.FieldCountry: fidelis.NewSecret("FR"), fidelis.FieldBirthDate: fidelis.NewSecret("1990-04-01")}})
	if err != nil {
		e.t.Fatalf("create customer: %v", err)
	}
	return c.ID
}

var keyN struct {
	sync.Mutex
	n int
}

func key() string {
	keyN.Lock()
	defer keyN.Unlock()
	keyN.n++
	return "k-" + time.Now().Format("150405.000000") + "-" + string(rune('a'+keyN.n%26)) + itoa(keyN.n)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	s := ""
	for n > 0 {
		s = string(rune('0'+n%10)) + s
		n /= 10
	}
	return s
}

// member creates a customer and joins them to the programme.
func (e *env) member() fidelis.CustomerID {
	e.t.Helper()
	id := e.customer()
	if _, _, err := e.svc.Join(e.mgr, fidelis.PurposeLoyalty, loyalty.MembershipInput{Programme: e.prog, Customer: id, TermsVersion: 1, Channel: "store", Key: key()}); err != nil {
		e.t.Fatalf("Join: %v", err)
	}
	return id
}

// gtin13 is a valid EAN-13.
const gtin13 = "4006381333931"

// order places a one-line order of cents and returns the result.
func (e *env) order(id fidelis.CustomerID, cents int64) *loyalty.OrderResult {
	e.t.Helper()
	res, err := e.svc.PlaceOrder(e.mgr, fidelis.PurposeLoyalty, loyalty.OrderInput{Programme: e.prog, Customer: id, OrderedAt: e.clock.Now(), Channel: "store", Store: "paris-01", Currency: "EUR",
		Lines: []loyalty.OrderLine{{GTIN: gtin13, Category: "grocery", Quantity: 1, UnitPriceCents: cents}}, Key: key()})
	if err != nil {
		e.t.Fatalf("PlaceOrder(%d cents): %v", cents, err)
	}
	return res
}

func (e *env) view(id fidelis.CustomerID) *loyalty.MemberView {
	e.t.Helper()
	v, err := e.svc.Member(e.mgr, fidelis.PurposeLoyalty, id, "", 0)
	if err != nil {
		e.t.Fatalf("Member: %v", err)
	}
	for _, m := range v.Memberships {
		if m.Programme.ID == e.prog {
			return m
		}
	}
	e.t.Fatalf("no membership of %s", e.prog)
	return nil
}

func (e *env) mustVerify() {
	e.t.Helper()
	r, err := e.svc.Verify(e.admin)
	if err != nil {
		e.t.Fatalf("Verify: %v", err)
	}
	if !r.OK() {
		e.t.Fatalf("Verify found problems: %v", r.Problems)
	}
}

// customerInput is a customer with a given name only.
func customerInput(name string) customer.Input {
	return customer.Input{Set: map[fidelis.Field]fidelis.Secret{fidelis.FieldGivenName: fidelis.NewSecret(name)}}
}
