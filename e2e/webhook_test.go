package e2e_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/webhook"
)

type hookRequest struct {
	header http.Header
	body   []byte
	at     time.Time
}

// hookReceiver is an integrator's endpoint on loopback: it verifies each notification as
// docs/operations.md tells integrators to, and records it.
type hookReceiver struct {
	mu     sync.Mutex
	secret string
	got    []hookRequest
	bad    int
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := webhook.Verify(h.secret, r.Header.Get(webhook.HeaderSignature), b, time.Now(), webhook.DefaultTolerance); err != nil {
		h.bad++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	h.got = append(h.got, hookRequest{r.Header.Clone(), b, time.Now()})
	w.WriteHeader(http.StatusOK)
}

func (h *hookReceiver) requests() []hookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.got)
}

// TestWebhook_SignedPropagationThroughAPI_R9 walks the R-9 path end to end over real HTTP:
// a processor registered through the API is told of a rectification and an erasure made
// through the API, by signed webhooks carrying no personal value, and the customer's
// recipients and notifications are answerable afterwards.
func TestWebhook_SignedPropagationThroughAPI_R9(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		logs := &fidelistest.SyncBuffer{}
		a := fidelistest.MustApp(t, b, fidelistest.Options{Logs: logs, Mutate: func(c *app.Config) { c.WebhookInterval = 20 * time.Millisecond }})
		base := fidelistest.MustServe(t, a)
		admin := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleAdmin))
		dpo := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleDPO))
		recv := &hookReceiver{}
		srv := httptest.NewServer(recv)
		t.Cleanup(srv.Close)

		const urlSecret = "endpoint-token-q9x7"
		created := admin.Do("POST", "/api/v1/recipients", "", map[string]any{
			"name": "Plateforme e-mailing", "kind": "processor", "purposes": []string{"customer_service"},
			"country": "fr", "contract_ref": "DPA-2026-014", "contact_email": "dpo@emailing.example",
			"endpoint": srv.URL + "/fidelis?key=" + urlSecret,
		}).MustStatus(t, http.StatusCreated).JSON(t)
		secret, _ := created["secret"].(string)
		rid, _ := created["id"].(string)
		recv.mu.Lock()
		recv.secret = secret
		recv.mu.Unlock()
		if created["country"] != "FR" || created["transfer"] != false {
			t.Errorf("created = %v; want country FR, no transfer", created)
		}

		id := createCanary(t, admin)
		admin.Do("PATCH", "/api/v1/customers/"+id, fidelis.PurposeCustomerService,
			map[string]any{"city": canaries["city"] + " Sud", "phone": nil}).MustStatus(t, http.StatusOK)
		dpo.Do("POST", "/api/v1/customers/"+id+"/erase", fidelis.PurposeDataProtection, nil).MustStatus(t, http.StatusOK)

		// Bounded wait for both notifications to be delivered and recorded.
		var page map[string]any
		deadline := time.Now().Add(20 * time.Second)
		for {
			page = dpo.Do("GET", "/api/v1/customers/"+id+"/recipients", fidelis.PurposeDataProtection, nil).MustStatus(t, http.StatusOK).JSON(t)
			if delivered(page, rid) == 2 || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Logf("delivered after %v", 20*time.Second-time.Until(deadline))
		if n := delivered(page, rid); n != 2 {
			t.Fatalf("customer recipients = %v; want 2 delivered notifications to %s", page, rid)
		}
		if page["erased"] != true {
			t.Errorf("erased = %v; want true", page["erased"])
		}

		reqs := recv.requests()
		var types []string
		for _, r := range reqs {
			// Signed with this recipient's secret, and nothing else verifies it.
			if webhook.Verify(webhook.NewSecret(), r.header.Get(webhook.HeaderSignature), r.body, r.at, 0) == nil {
				t.Error("a notification verifies under another secret")
			}
			types = append(types, r.header.Get(webhook.HeaderEventType))
			text := append(append([]byte{}, r.body...), []byte(fmt.Sprint(r.header))...)
			for _, n := range needles() {
				if bytes.Contains(text, n) {
					t.Errorf("a notification carries the personal value %q: %s", n, r.body)
				}
			}
			if !bytes.Contains(r.body, []byte(`"subject":"`+id+`"`)) {
				t.Errorf("notification %s does not name the customer's ID", r.body)
			}
		}
		slices.Sort(types)
		// customer.created is not subscribed; rectification and erasure are always sent.
		if want := []string{"customer.erased", "customer.updated"}; !slices.Equal(types, want) {
			t.Errorf("received event types %v; want %v", types, want)
		}
		for _, r := range reqs {
			if r.header.Get(webhook.HeaderEventType) == "customer.updated" && !bytes.Contains(r.body, []byte(`"fields":["city","phone"]`)) {
				t.Errorf("rectification %s does not name the changed fields city and phone", r.body)
			}
		}
		if recv.bad != 0 {
			t.Errorf("%d notifications failed verification at the receiver", recv.bad)
		}

		// The deliveries, the metrics and the audit trail.
		ds := admin.Do("GET", "/api/v1/recipients/"+rid+"/deliveries?state=delivered", "", nil).MustStatus(t, http.StatusOK).JSON(t)
		if n := len(ds["items"].([]any)); n != 2 {
			t.Errorf("%d delivered deliveries listed; want 2", n)
		}
		metrics := fidelistest.NewClient(t, base, "").Do("GET", "/metrics", "", nil).MustStatus(t, http.StatusOK)
		if !bytes.Contains(metrics.Body, []byte(`fidelis_webhook_deliveries_total{outcome="delivered"} 2`)) {
			t.Errorf("/metrics does not count 2 delivered webhooks")
		}
		log := dpo.Do("GET", "/api/v1/customers/"+id+"/access-log?limit=200", fidelis.PurposeDataProtection, nil).MustStatus(t, http.StatusOK).JSON(t)
		var actions []string
		for _, e := range log["items"].([]any) {
			actions = append(actions, e.(map[string]any)["action"].(string))
		}
		for _, want := range []string{"webhook.delivered", "customer.recipients"} {
			if !slices.Contains(actions, want) {
				t.Errorf("the customer's access log %v has no %s entry", actions, want)
			}
		}
		for _, n := range append(needles(), []byte(urlSecret), []byte(secret)) {
			if bytes.Contains(logs.Bytes(), n) {
				t.Errorf("the logs hold %q", n)
			}
		}
		if strings.Contains(string(metrics.Body), urlSecret) {
			t.Error("the metrics hold the endpoint's secret")
		}
	})
}

// delivered counts the delivered notifications to recipient rid in a customer recipients
// answer.
func delivered(page map[string]any, rid string) int {
	n := 0
	rs, _ := page["recipients"].([]any)
	for _, r := range rs {
		r := r.(map[string]any)
		if r["id"] != rid {
			continue
		}
		for _, note := range r["notifications"].([]any) {
			if note.(map[string]any)["state"] == "delivered" {
				n++
			}
		}
	}
	return n
}
