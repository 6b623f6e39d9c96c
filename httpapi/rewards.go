package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/loyalty"
)

// MaxBatchBodyBytes bounds a till batch: up to loyalty.MaxBatchOrders orders.
const MaxBatchBodyBytes = 8 << 20

// rewardsRoutes mounts tiers, referral, the rewards catalogue, reservations, vouchers and
// the till batch. Member operations run under a purpose checked before parsing (P-1);
// catalogue and policy changes need manage_loyalty.
func (s *Server) rewardsRoutes(api func(pattern string, h handler)) {
	lp, admin := s.loyaltyGuards(api)
	const prog = "/api/v1/loyalty/programmes/{pid}"
	admin("POST "+prog+"/tiers", s.handleTiersPublish)
	api("GET "+prog+"/tiers", s.handleTiersList)
	admin("POST "+prog+"/referral-policies", s.handleReferralPolicyPublish)
	api("GET "+prog+"/referral-policies", s.handleReferralPolicyList)
	admin("POST "+prog+"/rewards", s.handleRewardCreate)
	api("GET "+prog+"/rewards", s.handleRewardList)
	api("GET "+prog+"/rewards/{rid}", s.handleRewardGet)
	admin("PATCH "+prog+"/rewards/{rid}", s.handleRewardUpdate)
	admin("DELETE "+prog+"/rewards/{rid}", s.handleRewardDelete)
	lp("POST "+prog+"/members/{id}/reservations", fidelis.ActionUpdate, s.handleReserve)
	lp("POST "+prog+"/members/{id}/referral-code", fidelis.ActionUpdate, s.handleReferralCode)
	lp("GET /api/v1/loyalty/reservations/{rid}", fidelis.ActionRead, s.handleReservationGet)
	lp("POST /api/v1/loyalty/reservations/{rid}/confirm", fidelis.ActionUpdate, s.handleReservationSettle(true))
	lp("POST /api/v1/loyalty/reservations/{rid}/cancel", fidelis.ActionUpdate, s.handleReservationSettle(false))
	lp("GET /api/v1/loyalty/vouchers/{code}", fidelis.ActionRead, s.handleVoucherGet)
	lp("POST /api/v1/loyalty/vouchers/{code}/use", fidelis.ActionUpdate, s.handleVoucherUse)
	lp("POST /api/v1/orders/batch", fidelis.ActionUpdate, s.handleOrderBatch)
}

func tierJSON(t loyalty.Tier) map[string]any {
	return map[string]any{"id": t.ID, "name": textJSON(t.Name), "threshold": t.Threshold, "multiplier_percent": t.MultiplierPercent, "benefits": textJSON(t.Benefits)}
}

func tierScheduleJSON(sch *loyalty.TierSchedule) map[string]any {
	tiers := make([]map[string]any, len(sch.Tiers))
	for i, t := range sch.Tiers {
		tiers[i] = tierJSON(t)
	}
	return map[string]any{"version": sch.Version, "terms_version": sch.TermsVersion, "metric": sch.Metric, "period_months": sch.PeriodMonths,
		"tiers": tiers, "created_at": rfc3339(sch.CreatedAt)}
}

func referralPolicyJSON(p *loyalty.ReferralPolicy) map[string]any {
	return map[string]any{"version": p.Version, "terms_version": p.TermsVersion, "referrer_points": p.ReferrerPoints, "referee_points": p.RefereePoints, "created_at": rfc3339(p.CreatedAt)}
}

func (s *Server) handleTiersPublish(w http.ResponseWriter, r *http.Request) error {
	var in loyalty.TierScheduleInput
	spec := map[string]any{"terms_version": &in.TermsVersion, "metric": &in.Metric, "period_months": &in.PeriodMonths, "tiers": &in.Tiers}
	if err := members(w, r, spec, "terms_version", "metric", "period_months", "tiers"); err != nil {
		return err
	}
	sch, err := s.Loyalty.PublishTierSchedule(r.Context(), r.PathValue("pid"), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, tierScheduleJSON(sch))
}

func (s *Server) handleTiersList(w http.ResponseWriter, r *http.Request) error {
	all, err := s.Loyalty.TierSchedules(r.Context(), r.PathValue("pid"))
	if err != nil {
		return err
	}
	items := make([]map[string]any, len(all))
	for i, sch := range all {
		items[i] = tierScheduleJSON(sch)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

func (s *Server) handleReferralPolicyPublish(w http.ResponseWriter, r *http.Request) error {
	var in loyalty.ReferralPolicyInput
	spec := map[string]any{"terms_version": &in.TermsVersion, "referrer_points": &in.ReferrerPoints, "referee_points": &in.RefereePoints}
	if err := members(w, r, spec, "terms_version", "referrer_points", "referee_points"); err != nil {
		return err
	}
	p, err := s.Loyalty.PublishReferralPolicy(r.Context(), r.PathValue("pid"), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, referralPolicyJSON(p))
}

func (s *Server) handleReferralPolicyList(w http.ResponseWriter, r *http.Request) error {
	all, err := s.Loyalty.ReferralPolicies(r.Context(), r.PathValue("pid"))
	if err != nil {
		return err
	}
	items := make([]map[string]any, len(all))
	for i, p := range all {
		items[i] = referralPolicyJSON(p)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

func rewardJSON(rw *loyalty.Reward, now time.Time) map[string]any {
	var stock any
	if rw.Stock != nil {
		stock = *rw.Stock
	}
	return map[string]any{
		"id": rw.ID, "programme_id": rw.Programme, "kind": rw.Kind, "name": textJSON(rw.Name), "cost_points": rw.CostPoints, "stock": stock,
		"value_cents": rw.ValueCents, "gtin": nullable(rw.GTIN), "valid_from": optTime(rw.ValidFrom), "valid_until": optTime(rw.ValidUntil),
		"voucher_days": rw.VoucherDays, "active": rw.Active, "available": rw.Available(now) && (rw.Stock == nil || *rw.Stock > 0),
		"created_at": rfc3339(rw.CreatedAt), "updated_at": rfc3339(rw.UpdatedAt), "version": rw.Version,
	}
}

func (s *Server) handleRewardCreate(w http.ResponseWriter, r *http.Request) error {
	var in loyalty.RewardInput
	spec := map[string]any{"kind": &in.Kind, "name": &in.Name, "cost_points": &in.CostPoints, "stock": &in.Stock, "value_cents": &in.ValueCents,
		"gtin": &in.GTIN, "valid_from": &in.ValidFrom, "valid_until": &in.ValidUntil, "voucher_days": &in.VoucherDays, "active": &in.Active}
	if err := members(w, r, spec, "kind", "name", "cost_points"); err != nil {
		return err
	}
	rw, err := s.Loyalty.CreateReward(r.Context(), r.PathValue("pid"), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/loyalty/programmes/"+rw.Programme+"/rewards/"+rw.ID)
	return writeJSON(w, http.StatusCreated, rewardJSON(rw, time.Now()))
}

func (s *Server) handleRewardList(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	query := loyalty.RewardQuery{Programme: r.PathValue("pid"), Cursor: q.Get("cursor")}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > loyalty.MaxPageSize {
			return fidelis.Invalid(fidelis.FieldError{Field: "limit", Rule: "out_of_range", Message: fmt.Sprintf("must be an integer from 1 to %d", loyalty.MaxPageSize)})
		}
		query.Limit = n
	}
	switch q.Get("available") {
	case "", "false":
	case "true":
		query.Available = true
	default:
		return fidelis.Invalid(fidelis.FieldError{Field: "available", Rule: "invalid", Message: "must be true or false"})
	}
	page, err := s.Loyalty.Rewards(r.Context(), query)
	if err != nil {
		return err
	}
	now := time.Now()
	items := make([]map[string]any, len(page.Items))
	for i, rw := range page.Items {
		items[i] = rewardJSON(rw, now)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": items, "next_cursor": nullable(page.Next)})
}

func (s *Server) handleRewardGet(w http.ResponseWriter, r *http.Request) error {
	rw, err := s.Loyalty.GetReward(r.Context(), r.PathValue("pid"), r.PathValue("rid"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rewardJSON(rw, time.Now()))
}

func (s *Server) handleRewardUpdate(w http.ResponseWriter, r *http.Request) error {
	var in loyalty.RewardPatch
	var stock int64
	var from, until time.Time
	spec := map[string]any{"name": &in.Name, "cost_points": &in.CostPoints, "value_cents": &in.ValueCents, "gtin": &in.GTIN, "voucher_days": &in.VoucherDays,
		"active": &in.Active, "stock": &stock, "valid_from": &from, "valid_until": &until, "version": &in.Version}
	obj, err := readObject(w, r)
	if err != nil {
		return err
	}
	if err := decodeMembers(obj, spec); err != nil {
		return err
	}
	// stock, valid_from and valid_until: absent leaves them, null clears them.
	opt := func(name string) (set, null bool) {
		raw, ok := obj[name]
		return ok, ok && string(bytes.TrimSpace(raw)) == "null"
	}
	if set, null := opt("stock"); set {
		in.Stock.Set = true
		if !null {
			in.Stock.Value = &stock
		}
	}
	for _, f := range []struct {
		name string
		v    *time.Time
		o    *loyalty.Opt[time.Time]
	}{{"valid_from", &from, &in.ValidFrom}, {"valid_until", &until, &in.ValidUntil}} {
		if set, null := opt(f.name); set {
			f.o.Set = true
			if !null {
				f.o.Value = f.v
			}
		}
	}
	rw, err := s.Loyalty.UpdateReward(r.Context(), r.PathValue("pid"), r.PathValue("rid"), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rewardJSON(rw, time.Now()))
}

func (s *Server) handleRewardDelete(w http.ResponseWriter, r *http.Request) error {
	if err := s.Loyalty.DeleteReward(r.Context(), r.PathValue("pid"), r.PathValue("rid")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func voucherJSON(res *loyalty.Reservation, now time.Time) any {
	if res.VoucherCode == "" {
		return nil
	}
	state := loyalty.VoucherValid
	switch {
	case res.VoucherUsedAt != nil:
		state = loyalty.VoucherUsed
	case res.VoucherExpiresAt != nil && !now.Before(*res.VoucherExpiresAt):
		state = loyalty.VoucherExpired
	}
	return map[string]any{"code": res.VoucherCode, "state": state, "expires_at": optTime(res.VoucherExpiresAt), "used_at": optTime(res.VoucherUsedAt),
		"used_reference": nullable(res.VoucherUsedRef)}
}

func reservationJSON(out *loyalty.ReservationResult) map[string]any {
	res := out.Reservation
	txs := make([]transactionDoc, len(out.Transactions))
	for i, t := range out.Transactions {
		txs[i] = transactionJSON(t)
	}
	now := time.Now()
	return map[string]any{
		"id": res.ID, "programme_id": res.Programme, "customer_id": res.Customer, "reward": rewardJSON(out.Reward, now), "points": res.Points,
		"status": res.Status, "reference": res.Reference, "reserved_at": rfc3339(res.ReservedAt), "expires_at": rfc3339(res.ExpiresAt),
		"settled_at": optTime(res.SettledAt), "voucher": voucherJSON(res, now), "transactions": txs,
	}
}

func (s *Server) handleReserve(w http.ResponseWriter, r *http.Request) error {
	id, err := customerID(r)
	if err != nil {
		return err
	}
	in := loyalty.ReserveInput{Programme: r.PathValue("pid"), Customer: id, Key: r.Header.Get(IdempotencyKeyHeader)}
	if err := members(w, r, map[string]any{"reward_id": &in.Reward, "reference": &in.Reference}, "reward_id"); err != nil {
		return err
	}
	out, err := s.Loyalty.Reserve(r.Context(), purposeOf(r), in)
	if err != nil {
		return err
	}
	replayed(w, out.Replayed)
	w.Header().Set("Location", "/api/v1/loyalty/reservations/"+out.Reservation.ID)
	return writeJSON(w, http.StatusCreated, reservationJSON(out))
}

func (s *Server) handleReservationGet(w http.ResponseWriter, r *http.Request) error {
	out, err := s.Loyalty.GetReservation(r.Context(), purposeOf(r), r.PathValue("rid"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, reservationJSON(out))
}

// emptyBody accepts no body, or an empty JSON object.
func emptyBody(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	obj, err := decodeObject(body, "the request body")
	if err != nil {
		return err
	}
	return decodeMembers(obj, map[string]any{})
}

func (s *Server) handleReservationSettle(confirm bool) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := emptyBody(w, r); err != nil {
			return err
		}
		in := loyalty.SettleInput{Reservation: r.PathValue("rid"), Key: r.Header.Get(IdempotencyKeyHeader)}
		settle := s.Loyalty.Cancel
		if confirm {
			settle = s.Loyalty.Confirm
		}
		out, err := settle(r.Context(), purposeOf(r), in)
		if err != nil {
			return err
		}
		replayed(w, out.Replayed)
		return writeJSON(w, http.StatusOK, reservationJSON(out))
	}
}

func voucherViewJSON(v *loyalty.VoucherView) map[string]any {
	res := v.Reservation
	return map[string]any{"code": v.Code, "state": v.State, "reservation_id": res.ID, "programme_id": res.Programme, "customer_id": res.Customer,
		"reward": rewardJSON(v.Reward, time.Now()), "expires_at": optTime(res.VoucherExpiresAt), "used_at": optTime(res.VoucherUsedAt), "used_reference": nullable(res.VoucherUsedRef)}
}

func (s *Server) handleVoucherGet(w http.ResponseWriter, r *http.Request) error {
	v, err := s.Loyalty.CheckVoucher(r.Context(), purposeOf(r), r.PathValue("code"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, voucherViewJSON(v))
}

func (s *Server) handleVoucherUse(w http.ResponseWriter, r *http.Request) error {
	in := loyalty.UseVoucherInput{Code: r.PathValue("code"), Key: r.Header.Get(IdempotencyKeyHeader)}
	if err := members(w, r, map[string]any{"reference": &in.Reference}); err != nil {
		return err
	}
	v, err := s.Loyalty.UseVoucher(r.Context(), purposeOf(r), in)
	if err != nil {
		return err
	}
	replayed(w, v.Replayed)
	return writeJSON(w, http.StatusOK, voucherViewJSON(v))
}

func referralCodeJSON(rc *loyalty.ReferralCode, link string) map[string]any {
	return map[string]any{"code": rc.Code, "link": link, "created_at": rfc3339(rc.CreatedAt),
		// A message to share: the code and the link, nothing about the member.
		"share_text": textJSON(fidelis.Text{
			FR: "Rejoignez le programme de fidélité avec mon code " + rc.Code + " : " + link,
			EN: "Join the loyalty programme with my code " + rc.Code + ": " + link,
		})}
}

func (s *Server) handleReferralCode(w http.ResponseWriter, r *http.Request) error {
	id, err := customerID(r)
	if err != nil {
		return err
	}
	if err := emptyBody(w, r); err != nil {
		return err
	}
	rc, err := s.Loyalty.MemberReferralCode(r.Context(), purposeOf(r), r.PathValue("pid"), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, referralCodeJSON(rc, s.Loyalty.ReferralLink(rc.Code)))
}

// rewardsMemberJSON adds the tier, referral and reservation parts of a membership.
func rewardsMemberJSON(m map[string]any, v *loyalty.MemberView) {
	m["reserved"] = v.Reserved
	m["tier"], m["tier_progress"], m["referral"], m["referred_by"] = nil, nil, nil, nil
	hist := make([]map[string]any, len(v.TierHistory))
	for i, c := range v.TierHistory {
		hist[i] = map[string]any{"at": rfc3339(c.At), "from": nullable(c.From), "to": nullable(c.To), "direction": c.Direction, "schedule_version": c.ScheduleVersion,
			"terms_version": c.TermsVersion, "value": c.Value, "threshold": c.Threshold, "period_from": rfc3339(c.PeriodFrom), "period_to": rfc3339(c.PeriodTo),
			"reason": textJSON(c.Reason)}
	}
	m["tier_history"] = hist
	if v.Tier != nil && v.Tier.Tier != loyalty.BaseTier {
		t := map[string]any{"id": v.Tier.Tier, "since": rfc3339(v.Tier.Since), "schedule_version": v.Tier.ScheduleVersion, "name": nil, "multiplier_percent": 100, "benefits": nil}
		if v.TierDetail != nil {
			t["name"], t["multiplier_percent"], t["benefits"] = textJSON(v.TierDetail.Name), v.TierDetail.MultiplierPercent, textJSON(v.TierDetail.Benefits)
		}
		m["tier"] = t
	}
	if p := v.TierProgress; p != nil {
		var next any
		if p.Next != nil {
			next = map[string]any{"id": p.Next.ID, "name": textJSON(p.Next.Name), "threshold": p.Next.Threshold, "missing": p.Missing}
		}
		m["tier_progress"] = map[string]any{"schedule_version": p.Schedule.Version, "terms_version": p.Schedule.TermsVersion, "metric": p.Metric, "value": p.Value,
			"period_from": rfc3339(p.PeriodFrom), "period_to": rfc3339(p.PeriodTo), "next": next}
	}
	if v.ReferralCode != nil {
		m["referral"] = referralCodeJSON(v.ReferralCode, v.ReferralLink)
	}
	if ref := v.ReferredBy; ref != nil {
		// The referrer is another person: only the referral's state is shown.
		m["referred_by"] = map[string]any{"referral_id": ref.ID, "status": ref.Status, "joined_at": rfc3339(ref.JoinedAt), "settled_at": optTime(ref.SettledAt)}
	}
}

// handleOrderBatch records a till's batch of orders (L-7): see loyalty.PlaceOrders for the
// semantics. The response is 200 with one result per order, in order; an order the server
// cannot decode is an error for that order alone.
func (s *Server) handleOrderBatch(w http.ResponseWriter, r *http.Request) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return &fidelis.Error{Code: fidelis.EUNSUPPORTED, Reason: "unsupported_media_type", Message: "the request body must be application/json"}
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBatchBodyBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return &fidelis.Error{Code: fidelis.ETOOLARGE, Reason: "body_too_large", Message: fmt.Sprintf("a batch body is at most %d bytes", MaxBatchBodyBytes)}
		}
		return malformed("the request body could not be read")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return malformed("the request body is empty; a JSON object is expected")
	}
	items, fast := fastBatch(body)
	if !fast {
		obj, err := decodeObject(body, "the request body")
		if err != nil {
			return err
		}
		var raws []json.RawMessage
		if err := decodeMembers(obj, map[string]any{"orders": &raws}, "orders"); err != nil {
			return err
		}
		items = make([][]byte, len(raws))
		for i, raw := range raws {
			items[i] = raw
		}
	}
	if len(items) == 0 || len(items) > loyalty.MaxBatchOrders {
		return fidelis.Invalid(fidelis.FieldError{Field: "orders", Rule: "out_of_range", Message: fmt.Sprintf("a batch has 1 to %d orders", loyalty.MaxBatchOrders)})
	}
	// Each order is decoded alone: one that does not decode fails alone.
	orders := make([]loyalty.OrderInput, 0, len(items))
	index := make([]int, 0, len(items)) // position in items of orders[j]
	decodeErr := map[int]error{}
	keys := map[int]string{}
	for i, raw := range items {
		in, ok := fastOrder(raw, orderMembers)
		if !ok {
			var err error
			if in, keys[i], err = strictOrder(raw, i); err != nil {
				decodeErr[i] = err
				continue
			}
		}
		orders = append(orders, in)
		index = append(index, i)
	}
	var results []*loyalty.BatchResult
	if len(orders) > 0 {
		if results, err = s.Loyalty.PlaceOrders(r.Context(), purposeOf(r), orders); err != nil {
			return err
		}
	}
	out := make([]batchItemJSON, len(items))
	var sum batchSummaryJSON
	sum.Orders = len(items)
	count := func(st loyalty.BatchStatus) {
		switch st {
		case loyalty.BatchCreated:
			sum.Created++
		case loyalty.BatchReplayed:
			sum.Replayed++
		default:
			sum.Errors++
		}
	}
	for i := range items {
		if err := decodeErr[i]; err != nil {
			p := ProblemFor(err, r)
			out[i] = batchItemJSON{Index: i, Key: nullable(keys[i]), Status: loyalty.BatchError, Problem: &p}
			count(loyalty.BatchError)
		}
	}
	for j, res := range results {
		i := index[j]
		item := batchItemJSON{Index: i, Key: nullable(res.Key), Status: res.Status}
		count(res.Status)
		if res.Err != nil {
			p := ProblemFor(res.Err, r)
			if p.Status >= 500 {
				s.Logger.ErrorContext(r.Context(), "batch order failed", "index", i, "request_id", p.RequestID, "err", res.Err)
			}
			item.Problem = &p
		} else {
			o := res.Order
			ids := make([]string, len(o.Transactions))
			var points int64
			for k, t := range o.Transactions {
				ids[k] = t.ID
				points += t.MemberDelta()
			}
			item.Order = &batchOrderJSON{ID: o.Order.ID, Customer: o.Order.Customer, Location: "/api/v1/orders/" + o.Order.ID, Points: points, Transactions: ids}
		}
		out[i] = item
	}
	return writeJSON(w, http.StatusOK, batchJSON{Results: out, Summary: sum})
}

// The batch response, encoded from structs (a batch answers up to 500 items; maps would
// be sorted key by key). Members are declared in name order, as maps render them.
type (
	batchJSON struct {
		Results []batchItemJSON  `json:"results"`
		Summary batchSummaryJSON `json:"summary"`
	}
	batchSummaryJSON struct {
		Created  int `json:"created"`
		Errors   int `json:"errors"`
		Orders   int `json:"orders"`
		Replayed int `json:"replayed"`
	}
	batchItemJSON struct {
		Key     any                 `json:"idempotency_key"`
		Index   int                 `json:"index"`
		Order   *batchOrderJSON     `json:"order"`
		Problem *Problem            `json:"problem"`
		Status  loyalty.BatchStatus `json:"status"`
	}
	batchOrderJSON struct {
		Customer     fidelis.CustomerID `json:"customer_id"`
		ID           string             `json:"id"`
		Location     string             `json:"location"`
		Points       int64              `json:"points"`
		Transactions []string           `json:"transaction_ids"`
	}
)
