package customer

import (
	"fmt"
	"time"

	"github.com/fidelis/fidelis"
)

// Kept records named in erasure receipts: what the law requires to keep after an erasure,
// and only pseudonymised. Stable keys; the notice explains them.
const (
	KeptAuditLog    = "audit_log: pseudonymous customer ID, actions and field names only (accountability, GDPR art. 5(2))"
	KeptReceipt     = "erasure_receipt: this receipt (proof of the erasure)"
	KeptRights      = "rights_requests: the cases of this customer, ids and kinds only (evidence of the answers, GDPR art. 12 and 5(2))"
	KeptSuppression = "suppression_list: keyed hashes of the e-mail address and telephone number (R-15), so a re-import does not bring the person back"
)

// receipt builds the erasure receipt: what was destroyed, what the law keeps
// pseudonymised, and when the erasure is effective everywhere (the erasure time plus the
// backup retention period: after it no backup holds the wrapped key any more).
func (s *Service) receipt(id fidelis.CustomerID, now time.Time, actor fidelis.Actor, p fidelis.Purpose, d Deleted, suppressed []string) *Erasure {
	ret := s.backupRetention()
	days := int((ret + 24*time.Hour - 1) / (24 * time.Hour))
	effective := now.Add(ret)
	kept := []string{KeptAuditLog, KeptReceipt, KeptRights}
	keptEN, keptFR := "and the rights-request cases (ids and kinds only).", "et les demandes d'exercice de droits (identifiants et types uniquement)."
	if len(suppressed) > 0 {
		kept = append(kept, KeptSuppression)
		keptEN = "the rights-request cases (ids and kinds only), and the keyed hashes of the e-mail address and telephone number on the suppression list."
		keptFR = "les demandes d'exercice de droits (identifiants et types uniquement) et les empreintes à clé de l'adresse e-mail et du téléphone sur la liste d'opposition."
	} else {
		suppressed = []string{}
	}
	return &Erasure{
		ID: fidelis.NewID("era", now), CustomerID: id, ErasedAt: now, Actor: actor.String(), Purpose: p,
		DataKey: "destroyed", Fields: d.Fields, HistoryRows: d.HistoryRows, BlindIndexes: d.BlindIndexes,
		KeptRecords: kept, Suppressed: suppressed, EffectiveAt: effective, BackupRetentionDays: days,
		Notice: fmt.Sprintf("The customer's data key was destroyed: every remaining copy of their encrypted data, "+
			"including in backups and replicas, can no longer be decrypted. Their record, search indexes and history were deleted. "+
			"Backups are kept %d days, so the erasure is effective everywhere on %s, when the last backup holding the wrapped key expires. "+
			"Kept by law, pseudonymised: the audit log (pseudonymous customer ID only), this receipt, %s",
			days, effective.Format("2006-01-02"), keptEN),
		NoticeFR: fmt.Sprintf("La clé de données du client a été détruite : toute copie restante de ses données chiffrées, "+
			"y compris dans les sauvegardes et les réplicas, ne peut plus être déchiffrée. Sa fiche, ses index de recherche et son historique ont été supprimés. "+
			"Les sauvegardes sont conservées %d jours : l'effacement est effectif partout le %s, à l'expiration de la dernière sauvegarde contenant la clé chiffrée. "+
			"Conservés en vertu de la loi, sous forme pseudonymisée : le journal d'audit (identifiant pseudonyme uniquement), ce reçu, %s",
			days, effective.Format("02/01/2006"), keptFR),
	}
}
