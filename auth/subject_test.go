package auth_test

import (
	"testing"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/fidelistest"
)

// TestAuth_SubjectRoleReserved_P1: the subject role is the customer's own in the portal,
// bound there to one customer; no staff user or API token may hold it, or it would reach
// every customer's data under data_protection.
func TestAuth_SubjectRoleReserved_P1(t *testing.T) {
	a, _ := newApp(t, fidelistest.Backends(t)[0])
	_, err := a.Auth.CreateUser(adminCtx(), "portal-user", goodPassword, fidelis.RoleSubject, "fr")
	checkFieldError(t, "CreateUser(subject)", err, "role", "reserved_role")
	_, _, err = a.Auth.CreateToken(adminCtx(), "portal-token", fidelis.RoleSubject)
	checkFieldError(t, "CreateToken(subject)", err, "role", "reserved_role")
}
