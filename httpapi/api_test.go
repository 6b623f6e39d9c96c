package httpapi_test

import (
	"fmt"
	"testing"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/fidelistest"
)

func TestScratch(t *testing.T) {
	b := fidelistest.Backends(t)[0]
	a := fidelistest.MustApp(t, b)
	base := fidelistest.MustServe(t, a)
	c := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleAdmin))
	dpo := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleDPO))
	show := func(r *fidelistest.Response) { fmt.Printf("%d %v\n%s\n", r.Status, r.Header.Get("Content-Type"), r.Body) }
	show(c.Do("GET", "/api/v1/purposes", "", nil))
	r := c.Do("POST", "/api/v1/customers", "customer_service", map[string]any{"given_name": "Ann", "email": "a@b.fr", "attributes": map[string]string{"tier": "gold"}})
	show(r)
	id := r.JSON(t)["id"].(string)
	show(c.Do("PATCH", "/api/v1/customers/"+id, "customer_service", map[string]any{"city": "Lyon"}))
	show(c.Do("GET", "/api/v1/customers/"+id+"/history", "customer_service", nil))
	show(dpo.Do("GET", "/api/v1/customers/"+id+"/access-log?limit=2", "data_protection", nil))
	show(dpo.Do("GET", "/api/v1/customers/"+id+"/export", "data_protection", nil))
	show(dpo.Do("POST", "/api/v1/customers/"+id+"/erase", "data_protection", nil))
	show(dpo.Do("POST", "/api/v1/customers/"+id+"/erase", "data_protection", nil))
	show(dpo.Do("GET", "/api/v1/customers/"+id, "data_protection", nil))
	show(dpo.Do("GET", "/api/v1/customers/"+id+"/access-log", "data_protection", nil))
	show(dpo.Do("GET", "/api/v1/customers/"+id+"/history", "data_protection", nil))
	show(dpo.Do("GET", "/healthz", "", nil))
	show(c.Do("GET", "/api/v1/customers", "bogus", nil))
	show(c.Do("GET", "/api/v1/nope", "", nil))
	show(c.Do("DELETE", "/api/v1/customers", "", nil))
}
