package sheet_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/gridhall/gridhall/internal/sheet"
)

// row is a data row as the tests compare it.
type row struct {
	Line  int
	Cells []string
}

func (r row) String() string { return fmt.Sprintf("%d %q", r.Line, r.Cells) }

// csvBytes writes records with encoding/csv, the way a program would.
func csvBytes(t testing.TB, comma rune, records [][]string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Comma = comma
	w.UseCRLF = true // as Excel writes it
	if err := w.WriteAll(records); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// open opens data as a sheet named name.
func open(t testing.TB, data []byte, name string) (sheet.Reader, error) {
	t.Helper()
	r, err := sheet.Open(bytes.NewReader(data), int64(len(data)), name)
	if err == nil {
		t.Cleanup(func() {
			if err := r.Close(); err != nil {
				t.Error(err)
			}
		})
	}
	return r, err
}

// readAll opens data and reads every row, failing the test on any error.
func readAll(t testing.TB, data []byte, name string) ([]string, []row) {
	t.Helper()
	r, err := open(t, data, name)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	var rows []row
	for {
		cells, line, err := r.Next()
		if err == io.EOF {
			return r.Header(), rows
		}
		if err != nil {
			t.Fatalf("Next after %d rows: %v", len(rows), err)
		}
		rows = append(rows, row{line, append([]string(nil), cells...)})
	}
}

// readErr opens data and reads until an error, which it returns as *sheet.Error
// (nil when the whole sheet reads without one).
func readErr(t testing.TB, data []byte, name string) *sheet.Error {
	t.Helper()
	r, err := open(t, data, name)
	for err == nil {
		_, _, err = r.Next()
	}
	if err == io.EOF {
		return nil
	}
	var e *sheet.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *sheet.Error", err, err)
	}
	if r != nil {
		// Errors end the reading: the next call says the same.
		if _, _, again := r.Next(); again != err {
			t.Errorf("Next after %v returned %v", err, again)
		}
	}
	return e
}
