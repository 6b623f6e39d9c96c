package retention

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/audit"
)

// Report is what a run did, or a dry run would do: counts by action and by rule, and one
// line per customer with something due (IDs and dates only, no personal data).
type Report struct {
	DryRun   bool
	At       time.Time
	Scanned  int
	Counts   map[Action]int
	ByRule   map[RuleID]map[Action]int
	Lines    []Decision // every decision but none and archived, in customer ID order
	Failures int
	Duration time.Duration
}

func newReport(dry bool, at time.Time) *Report {
	return &Report{DryRun: dry, At: at, Counts: map[Action]int{}, ByRule: map[RuleID]map[Action]int{}}
}

func (r *Report) add(d Decision) {
	r.Counts[d.Action]++
	if r.ByRule[d.Rule] == nil {
		r.ByRule[d.Rule] = map[Action]int{}
	}
	r.ByRule[d.Rule][d.Action]++
	if d.Action == ActionFailed {
		r.Failures++
	}
	if d.Action != ActionNone && d.Action != ActionArchived {
		r.Lines = append(r.Lines, d)
	}
}

// Summary renders the counts as "archive=2 erase=1 ...", in report order, zeros left out.
func (r *Report) Summary() string {
	var parts []string
	for _, a := range Actions() {
		if n := r.Counts[a]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", a, n))
		}
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, " ")
}

// ErrRunning is returned when another process holds the retention lock.
var ErrRunning = &fidelis.Error{Code: fidelis.ECONFLICT, Reason: "retention_running",
	Message: "a retention run is already in progress on another node or process; try again when it ends"}

// Progress is told how many customers a run has scanned so far, after each batch.
type Progress func(scanned int)

// Report decides for every customer what retention would do now, and changes nothing: the
// dry run (T-7). Audited with its counts.
func (s *Service) Report(ctx context.Context, progress Progress) (*Report, error) {
	if err := s.CheckManage(ctx, ActReport); err != nil {
		return nil, err
	}
	return s.run(ctx, true, progress)
}

// Run applies retention now (T-1..T-8): it sends due renewal requests and warnings once,
// moves customers whose active period ended to the restricted archive, erases those whose
// archive or grace period ended, and leaves held customers alone. One run at a time across
// nodes (Locker). A failure on one customer is reported in its line and the run goes on;
// the report's Failures counts them. The counts (no customer ID) are kept as the run's
// record; each change is audited under the customer's ID.
func (s *Service) Run(ctx context.Context, progress Progress) (*Report, error) {
	if err := s.CheckManage(ctx, ActRun); err != nil {
		return nil, err
	}
	if s.Locker != nil {
		unlock, ok, err := s.Locker.TryLock(ctx, LockName)
		if err != nil {
			return nil, fmt.Errorf("retention: lock: %w", err)
		}
		if !ok {
			return nil, ErrRunning
		}
		defer unlock()
	}
	return s.run(ctx, false, progress)
}

func (s *Service) batch() int {
	if s.BatchSize > 0 {
		return s.BatchSize
	}
	return 200
}

func (s *Service) run(ctx context.Context, dry bool, progress Progress) (*Report, error) {
	start := time.Now()
	now := s.now()
	rules, err := s.rules(ctx)
	if err != nil {
		return nil, err
	}
	rep := newReport(dry, now)
	pol := s.policy()
	var after fidelis.CustomerID
	for {
		if err := ctx.Err(); err != nil {
			return nil, &fidelis.Error{Code: fidelis.EUNAVAILABLE, Message: "the retention run was interrupted; run it again to finish", Err: err}
		}
		var subjects []*Subject
		if err := s.Store.Read(ctx, func(tx Tx) (err error) { subjects, err = tx.RetentionSubjects(ctx, after, s.batch()); return err }); err != nil {
			return nil, fmt.Errorf("retention: read customers: %w", err)
		}
		for _, sub := range subjects {
			d := Decide(sub, rules, now, pol)
			if !dry {
				d = s.apply(ctx, rules, now, pol, d)
			}
			rep.add(d)
		}
		rep.Scanned += len(subjects)
		if progress != nil {
			progress(rep.Scanned)
		}
		if len(subjects) < s.batch() {
			break
		}
		after = subjects[len(subjects)-1].ID
	}
	rep.Duration = time.Since(start)
	act := ActRun
	if dry {
		act = ActReport
	}
	summary := fmt.Sprintf("scanned=%d %s", rep.Scanned, rep.Summary())
	if dry {
		if err := s.Store.RecordAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: act, Purpose: fidelis.PurposeDataProtection, Reason: summary})); err != nil {
			return nil, fmt.Errorf("retention: audit: %w", err)
		}
		return rep, nil
	}
	actor, _ := fidelis.ActorFrom(ctx)
	rec := &Run{ID: fidelis.NewID("ret", now), At: now, By: actor.String(), Scanned: rep.Scanned, Counts: rep.Counts, ByRule: rep.ByRule, Duration: rep.Duration}
	err = s.Store.Write(ctx, func(tx Tx) error {
		if err := tx.InsertRetentionRun(ctx, rec); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: act, Purpose: fidelis.PurposeDataProtection, Reason: summary}))
	})
	if err != nil {
		return nil, fmt.Errorf("retention: record the run: %w", err)
	}
	return rep, nil
}

// apply carries out decision d. It decides again on the facts read at the moment of acting
// (a contact or a legal hold may have come in since the batch was read), and reports a
// failure in the decision rather than stopping the run.
func (s *Service) apply(ctx context.Context, rules Rules, now time.Time, pol Policy, d Decision) Decision {
	switch d.Action {
	case ActionNotify, ActionArchive, ActionErase:
	default:
		return d
	}
	var sub *Subject
	if err := s.Store.Read(ctx, func(tx Tx) (err error) { sub, err = tx.RetentionSubject(ctx, d.CustomerID); return err }); err != nil {
		if fidelis.ErrorCode(err) == fidelis.ENOTFOUND {
			d.Action, d.Reason = ActionNone, "already_erased"
			return d
		}
		return failed(d, err)
	}
	d = Decide(sub, rules, now, pol)
	var err error
	switch d.Action {
	case ActionNotify:
		err = s.notify(ctx, &d, now)
	case ActionArchive:
		err = s.archive(ctx, rules, now, pol, &d)
	case ActionErase:
		if s.Eraser == nil {
			err = &fidelis.Error{Code: fidelis.EUNAVAILABLE, Reason: "erasure_unavailable", Message: "erasure is not available in this installation"}
			break
		}
		_, err = s.Eraser.EraseExpired(ctx, d.CustomerID, d.Rule)
	}
	if err != nil {
		return failed(d, err)
	}
	return d
}

func failed(d Decision, err error) Decision {
	d.Action = ActionFailed
	d.Reason = "failed"
	if e := fidelis.AsError(err); e != nil && e.Reason != "" {
		d.Reason = e.Reason
	} else if e != nil {
		d.Reason = string(e.Code)
	}
	return d
}

// notify sends the notice of d's rule and records it, so that it is asked only once.
func (s *Service) notify(ctx context.Context, d *Decision, now time.Time) error {
	rule := Apply(nil).Get(d.Rule)
	result, msgID, err := s.Notifier.Notify(ctx, d.CustomerID, rule.Notice, d.Rule, d.ActAt)
	if err != nil {
		return err
	}
	n := &NoticeRecord{CustomerID: d.CustomerID, Rule: d.Rule, Notice: rule.Notice, At: now, Result: result, MessageID: msgID}
	err = s.Store.Write(ctx, func(tx Tx) error {
		if err := tx.PutRetentionNotice(ctx, n); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: ActNotice, Subject: string(d.CustomerID), Purpose: fidelis.PurposeDataProtection,
			Reason: fmt.Sprintf("%s:%s:%s", d.Rule, rule.Notice, result)}))
	})
	if err != nil {
		return fmt.Errorf("retention: record notice: %w", err)
	}
	d.NoticeAt = now
	if result != NoticeSent {
		d.ActAt = d.Due
	}
	return nil
}

// archive moves d's customer to the restricted intermediate archive (T-7): the lawfulness
// decision then refuses every purpose but storage, legal claims, the customer's rights,
// audit and accounting (retention_expired). The decision is taken again in the same
// transaction as the change, so a hold placed meanwhile wins.
func (s *Service) archive(ctx context.Context, rules Rules, now time.Time, pol Policy, d *Decision) error {
	return s.Store.Write(ctx, func(tx Tx) error {
		sub, err := tx.RetentionSubject(ctx, d.CustomerID)
		if err != nil {
			return err
		}
		if again := Decide(sub, rules, now, pol); again.Action != ActionArchive {
			*d = again
			return nil
		}
		st, err := tx.LockSubjectState(ctx, d.CustomerID)
		if err != nil {
			return err
		}
		if st.Archived != nil {
			return nil
		}
		st.Archived = &now
		if err := tx.PutSubjectState(ctx, d.CustomerID, st); err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: ActArchive, Subject: string(d.CustomerID), Purpose: fidelis.PurposeDataProtection, Reason: string(d.Rule)})); err != nil {
			return err
		}
		return tx.AppendEvent(ctx, &fidelis.Event{ID: fidelis.NewID("evt", now), At: now, Type: "customer.archived", Subject: string(d.CustomerID),
			Attrs: map[string]string{"rule": string(d.Rule)}})
	})
}

// SortLines orders report lines by action (in report order), then customer ID.
func SortLines(lines []Decision) {
	rank := map[Action]int{}
	for i, a := range Actions() {
		rank[a] = i
	}
	sort.SliceStable(lines, func(i, j int) bool {
		if rank[lines[i].Action] != rank[lines[j].Action] {
			return rank[lines[i].Action] < rank[lines[j].Action]
		}
		return lines[i].CustomerID < lines[j].CustomerID
	})
}
