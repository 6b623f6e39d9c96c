package httpapi

import (
	"net/http"
	"time"

	"github.com/fidelis/fidelis/proof"
)

func (s *Server) proofRoutes(api func(string, handler)) {
	if s.Proof == nil {
		return
	}
	api("GET /api/v1/proof", s.handleProof)
}

// handleProof streams the accountability proof (P-4) as a zip file: audit log with signed
// checkpoints and public key, consent notices and ledger, register of processing, manifest.
// It holds no personal value; the role must hold verify_audit and read_register.
func (s *Server) handleProof(w http.ResponseWriter, r *http.Request) error {
	// The permission comes before parsing, like the purpose check of personal-data routes.
	if _, err := s.Proof.Check(r.Context()); err != nil {
		return err
	}
	now := s.Proof.Now
	if now == nil {
		now = time.Now
	}
	since, err := proof.ParseSince(r.URL.Query().Get("since"), s.Proof.Calendar, now())
	if err != nil {
		return err
	}
	// The body is written as it is read from the database; a large export outlasts the
	// server's write timeout, so each progress report extends the deadline instead.
	rc := http.NewResponseController(w)
	extend := func() { _ = rc.SetWriteDeadline(time.Now().Add(2 * time.Minute)) }
	extend()
	h := w.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Disposition", `attachment; filename="fidelis-proof-`+now().UTC().Format("20060102T150405Z")+`.zip"`)
	h.Set("Cache-Control", "no-store")
	sw := &startedWriter{w: w}
	_, err = s.Proof.Export(r.Context(), sw, proof.Options{Since: since, ProgressEvery: 1000, Progress: func(proof.Progress) { extend() }})
	if err != nil && !sw.started {
		h.Del("Content-Disposition")
		return err
	}
	if err != nil {
		// The status and part of the archive are sent: the only honest signal left is to
		// break the connection, so that the client sees a truncated download, not a file.
		s.Logger.ErrorContext(r.Context(), "proof export failed after the response started", "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}

// startedWriter records whether anything was written, so that an error before the first
// byte is still answered as a problem.
type startedWriter struct {
	w       http.ResponseWriter
	started bool
}

func (s *startedWriter) Write(p []byte) (int, error) {
	s.started = true
	return s.w.Write(p)
}
