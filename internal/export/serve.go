package export

import (
	"io"
	"mime"
	"net/http"
	"time"
)

// downloadDeadline is how long a download may take: a large file over a
// slow line takes longer than the server's write timeout.
const downloadDeadline = 30 * time.Minute

// Serve streams an opened export file (see Service.Open, which has audited
// the download) as an attachment named after the job, for every face that
// offers downloads, so they all send the same headers. Range requests are
// served, so an interrupted download of a large file can resume.
func Serve(w http.ResponseWriter, r *http.Request, j Job, file io.ReadSeeker) {
	// Not every writer supports deadlines (test recorders); without one the
	// server's own timeout stands.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(downloadDeadline))
	h := w.Header()
	h.Set("Content-Type", j.Format.ContentType())
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": j.FileName()}))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", j.FinishedAt, file)
}
