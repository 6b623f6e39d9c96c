package fidelis

import "context"

// ActorKind says what kind of principal acts.
type ActorKind string

// Actor kinds.
const (
	ActorUser   ActorKind = "user"   // a staff member signed in to the back-office
	ActorToken  ActorKind = "token"  // another system with an API token
	ActorSystem ActorKind = "system" // Fidelis itself: jobs, demo loader, CLI
	// ActorCustomer is a customer signed in to the self-service portal, acting on their own
	// data only; the ID is their customer ID and the role RoleSubject.
	ActorCustomer ActorKind = "customer"
)

// Actor is who performs an operation. It carries IDs only: audit entries name the actor
// without any personal data.
type Actor struct {
	Kind ActorKind
	ID   string
	Role Role
}

// String renders "kind:id", the form stored in audit entries.
func (a Actor) String() string { return string(a.Kind) + ":" + a.ID }

// SystemActor is Fidelis acting on its own behalf with the given role.
func SystemActor(job string, role Role) Actor { return Actor{Kind: ActorSystem, ID: job, Role: role} }

type ctxKey int

const (
	actorKey ctxKey = iota
	requestIDKey
)

// WithActor returns a context carrying the actor.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey, a)
}

// ActorFrom returns the actor in ctx, if any.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey).(Actor)
	return a, ok
}

// WithRequestID returns a context carrying a request ID, recorded in audit entries so an
// operator can tie entries to one request.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// RequestIDFrom returns the request ID in ctx, or "".
func RequestIDFrom(ctx context.Context) string {
	s, _ := ctx.Value(requestIDKey).(string)
	return s
}
