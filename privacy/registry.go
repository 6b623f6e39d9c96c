// Package privacy holds the purpose registry and the access decision every processing path
// goes through (P-1, P-2, P-3): which role may act, for which purpose, on which fields.
package privacy

import (
	"fmt"
	"slices"

	"github.com/fidelis/fidelis"
)

// Purpose declares one processing purpose (P-2): its single lawful basis (P-3), the fields
// it may use, the operations it covers, how long data is kept for it and who receives it.
type Purpose struct {
	Name        fidelis.Purpose     `json:"name"`
	LawfulBasis fidelis.LawfulBasis `json:"lawful_basis"`
	Fields      []fidelis.Field     `json:"fields"`
	Actions     []fidelis.Action    `json:"actions"`
	Retention   Text                `json:"retention"`
	Recipients  []string            `json:"recipients"`
	Description Text                `json:"description"`
	// DirectMarketing marks purposes an objection to direct marketing stops at once.
	DirectMarketing bool `json:"direct_marketing,omitempty"`
	// ConsentChannels are the channels a consent-based purpose needs consent on (C-1).
	ConsentChannels []Channel `json:"consent_channels,omitempty"`
}

// Text is a short text in French and English (fidelis.Text).
type Text = fidelis.Text

// Allows reports whether the purpose may use field f.
func (p *Purpose) Allows(f fidelis.Field) bool { return slices.Contains(p.Fields, f) }

// Covers reports whether the purpose covers action a.
func (p *Purpose) Covers(a fidelis.Action) bool { return slices.Contains(p.Actions, a) }

// RoleGrant says which purposes and actions a role holds.
type RoleGrant struct {
	Role     fidelis.Role      `json:"role"`
	Purposes []fidelis.Purpose `json:"purposes"`
	Actions  []fidelis.Action  `json:"actions"`
}

// Registry is the set of declared purposes and role grants. It is immutable once built;
// a change builds a new one.
type Registry struct {
	purposes map[fidelis.Purpose]*Purpose
	roles    map[fidelis.Role]*RoleGrant
	order    []fidelis.Purpose
}

// NewRegistry validates and indexes purposes and grants: every purpose has one valid lawful
// basis and known fields; every grant names declared purposes.
func NewRegistry(purposes []Purpose, grants []RoleGrant) (*Registry, error) {
	r := &Registry{purposes: map[fidelis.Purpose]*Purpose{}, roles: map[fidelis.Role]*RoleGrant{}}
	known := fidelis.CustomerFields()
	for i := range purposes {
		p := purposes[i]
		// Copies: the registry must not change when the caller's slices do.
		p.Fields, p.Actions, p.Recipients = slices.Clone(p.Fields), slices.Clone(p.Actions), slices.Clone(p.Recipients)
		p.ConsentChannels = slices.Clone(p.ConsentChannels)
		if p.Name == "" {
			return nil, fmt.Errorf("privacy: purpose %d has no name", i)
		}
		if _, dup := r.purposes[p.Name]; dup {
			return nil, fmt.Errorf("privacy: purpose %q declared twice", p.Name)
		}
		if !p.LawfulBasis.Valid() {
			return nil, fmt.Errorf("privacy: purpose %q: lawful basis %q is not one of consent, contract, legal_obligation, legitimate_interest", p.Name, p.LawfulBasis)
		}
		if len(p.ConsentChannels) > 0 && p.LawfulBasis != fidelis.BasisConsent {
			return nil, fmt.Errorf("privacy: purpose %q: consent channels on a purpose whose basis is %s (P-3: one basis)", p.Name, p.LawfulBasis)
		}
		for _, c := range p.ConsentChannels {
			if !c.Valid() {
				return nil, fmt.Errorf("privacy: purpose %q: unknown consent channel %q", p.Name, c)
			}
		}
		for _, f := range p.Fields {
			if !slices.Contains(known, f) {
				return nil, fmt.Errorf("privacy: purpose %q: unknown field %q", p.Name, f)
			}
		}
		r.purposes[p.Name] = &p
		r.order = append(r.order, p.Name)
	}
	for i := range grants {
		g := grants[i]
		g.Purposes, g.Actions = slices.Clone(g.Purposes), slices.Clone(g.Actions)
		if _, dup := r.roles[g.Role]; dup {
			return nil, fmt.Errorf("privacy: role %q granted twice", g.Role)
		}
		for _, p := range g.Purposes {
			if _, ok := r.purposes[p]; !ok {
				return nil, fmt.Errorf("privacy: role %q is granted undeclared purpose %q", g.Role, p)
			}
		}
		r.roles[g.Role] = &g
	}
	return r, nil
}

// Purpose returns the declaration of p, or ENOTFOUND.
func (r *Registry) Purpose(p fidelis.Purpose) (*Purpose, error) {
	if d, ok := r.purposes[p]; ok {
		return d, nil
	}
	return nil, &fidelis.Error{Code: fidelis.ENOTFOUND, Reason: "purpose_unknown", Message: "the purpose is not declared in the registry"}
}

// Purposes returns every declared purpose in declaration order.
func (r *Registry) Purposes() []*Purpose {
	out := make([]*Purpose, 0, len(r.order))
	for _, n := range r.order {
		out = append(out, r.purposes[n])
	}
	return out
}

// Roles returns every role grant, sorted by role name.
func (r *Registry) Roles() []*RoleGrant {
	out := make([]*RoleGrant, 0, len(r.roles))
	for _, g := range r.roles {
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b *RoleGrant) int { return compare(string(a.Role), string(b.Role)) })
	return out
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ValidRole reports whether role has a grant.
func (r *Registry) ValidRole(role fidelis.Role) bool { _, ok := r.roles[role]; return ok }

// PurposesOf returns the purposes granted to role, in registry order.
func (r *Registry) PurposesOf(role fidelis.Role) []*Purpose {
	g, ok := r.roles[role]
	if !ok {
		return nil
	}
	var out []*Purpose
	for _, n := range r.order {
		if slices.Contains(g.Purposes, n) {
			out = append(out, r.purposes[n])
		}
	}
	return out
}

// Can reports whether role holds the administrative action a (no purpose involved).
func (r *Registry) Can(role fidelis.Role, a fidelis.Action) bool {
	g, ok := r.roles[role]
	return ok && slices.Contains(g.Actions, a)
}

// Authorize is the access decision for an operation on personal data (P-1): the purpose is
// named, declared, covers the action and is granted to the actor's role, and the role holds
// the action. It returns the purpose declaration, whose Fields bound what the operation may
// see or write. A refusal is an EFORBIDDEN error whose Reason says which rule refused.
func (r *Registry) Authorize(actor fidelis.Actor, p fidelis.Purpose, a fidelis.Action) (*Purpose, error) {
	if p == "" {
		return nil, fidelis.Refusal("purpose_missing", "every operation on personal data must name its purpose (header Fidelis-Purpose)")
	}
	decl, ok := r.purposes[p]
	if !ok {
		// The unknown name is not repeated: it is caller-chosen text (it could be anything,
		// personal data included) and must not reach responses or the audit log (D-5).
		return nil, fidelis.Refusal("purpose_unknown", "the purpose named in the Fidelis-Purpose header is not declared in the registry (GET /api/v1/purposes lists them)")
	}
	g, ok := r.roles[actor.Role]
	if !ok {
		return nil, fidelis.Refusal("role_unknown", fmt.Sprintf("role %q is not known", actor.Role))
	}
	if !slices.Contains(g.Purposes, p) {
		return nil, fidelis.Refusal("purpose_not_granted", fmt.Sprintf("role %q is not granted purpose %q", actor.Role, p))
	}
	if !decl.Covers(a) {
		return nil, fidelis.Refusal("action_not_covered", fmt.Sprintf("purpose %q does not cover the action %q", p, a))
	}
	if !slices.Contains(g.Actions, a) {
		return nil, fidelis.Refusal("action_not_permitted", fmt.Sprintf("role %q may not perform %q", actor.Role, a))
	}
	return decl, nil
}
