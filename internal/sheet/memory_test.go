package sheet_test

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/gridhall/gridhall/internal/sheet"
)

var bigHeader = []string{"姓名", "公民身份号码", "性别", "出生日期", "联系电话", "户籍类型", "楼栋", "门牌号", "与户主关系", "入住日期", "户籍地址", "备注"}

// bigRow returns row i of a generated register: about 200 bytes, every
// value different, as in a real one.
func bigRow(i int) []string {
	return []string{
		fmt.Sprintf("居民%06d", i),
		fmt.Sprintf("420106%04d%02d%02d%03d%d", 1930+i%90, 1+i%12, 1+i%28, i%1000, i%10),
		[]string{"男", "女"}[i%2],
		fmt.Sprintf("%04d-%02d-%02d", 1930+i%90, 1+i%12, 1+i%28),
		fmt.Sprintf("138%08d", i),
		"户籍",
		fmt.Sprintf("%d栋", 1+i%40),
		fmt.Sprintf("%d-%d%02d", 1+i%4, 1+i%30, 1+i%4),
		"户主",
		"2021-05-01",
		fmt.Sprintf("湖北省武汉市洪山区珞喻路%d号%d栋", i%999, 1+i%40),
		fmt.Sprintf("网格%03d 第%d次走访，情况正常", i%37, i%5),
	}
}

// writeBigCSV writes a register of n rows as UTF-8 CSV.
func writeBigCSV(t testing.TB, w io.Writer, n int) {
	bw := bufio.NewWriter(w)
	cw := csv.NewWriter(bw)
	must(t, cw.Write(bigHeader))
	for i := range n {
		must(t, cw.Write(bigRow(i)))
	}
	cw.Flush()
	must(t, cw.Error())
	must(t, bw.Flush())
}

// writeBigXLSX writes a register of n rows with excelize's streaming writer,
// the birth and move-in dates as date-formatted numbers.
func writeBigXLSX(t testing.TB, w io.Writer, n int) {
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	must(t, err)
	dateStyle, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	must(t, err)
	header := make([]any, len(bigHeader))
	for i, h := range bigHeader {
		header[i] = h
	}
	must(t, sw.SetRow("A1", header))
	cells := make([]any, len(bigHeader))
	for i := range n {
		for j, v := range bigRow(i) {
			cells[j] = v
		}
		cells[3] = excelize.Cell{StyleID: dateStyle, Value: float64(10958 + i%30000)} // 1930-01-01 on
		cells[4] = 13800000000 + i
		cells[9] = excelize.Cell{StyleID: dateStyle, Value: 44317.0} // 2021-05-01
		cell, err := excelize.CoordinatesToCellName(1, i+2)
		must(t, err)
		must(t, sw.SetRow(cell, cells))
	}
	must(t, sw.Flush())
	must(t, f.Write(w))
}

// heapBound is what streaming a sheet may take at most, whatever its size.
// Streaming takes 2–3 MiB; reading the 50,000-row workbook whole with
// excelize's GetRows takes 31 MiB, so a bound of 32 MiB would not catch it.
const heapBound = 8 << 20

// streamAndMeasure reads every row and returns the largest heap in use after
// a collection, sampled every 10,000 rows.
func streamAndMeasure(t *testing.T, r sheet.Reader, wantRows int) uint64 {
	t.Helper()
	var peak uint64
	var ms runtime.MemStats
	sample := func() {
		runtime.GC()
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
	}
	n := 0
	for {
		cells, line, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if line != n+2 || len(cells) != len(bigHeader) {
			t.Fatalf("row %d: line %d, %d cells", n, line, len(cells))
		}
		n++
		if n%10_000 == 0 {
			sample()
		}
	}
	if n != wantRows {
		t.Fatalf("%d rows, want %d", n, wantRows)
	}
	return peak
}

func TestCSVStreamsInBoundedMemory(t *testing.T) {
	const rows = 200_000
	path := filepath.Join(t.TempDir(), "register.csv")
	out, err := os.Create(path)
	must(t, err)
	writeBigCSV(t, out, rows)
	must(t, out.Close())
	f, err := os.Open(path)
	must(t, err)
	defer f.Close()
	st, err := f.Stat()
	must(t, err)
	if st.Size() <= heapBound {
		t.Fatalf("the file has %d bytes: it must be larger than the bound to show anything", st.Size())
	}
	r, err := sheet.Open(f, st.Size(), "register.csv")
	must(t, err)
	defer r.Close()
	peak := streamAndMeasure(t, r, rows)
	t.Logf("%d rows, %.1f MiB file, peak heap in use %.1f MiB", rows, float64(st.Size())/(1<<20), float64(peak)/(1<<20))
	if peak > heapBound {
		t.Errorf("heap in use reached %.1f MiB, bound %d MiB", float64(peak)/(1<<20), heapBound>>20)
	}
}

func TestXLSXStreamsInBoundedMemory(t *testing.T) {
	const rows = 50_000
	path := filepath.Join(t.TempDir(), "register.xlsx")
	out, err := os.Create(path)
	must(t, err)
	writeBigXLSX(t, out, rows)
	must(t, out.Close())
	f, err := os.Open(path)
	must(t, err)
	defer f.Close()
	st, err := f.Stat()
	must(t, err)
	r, err := sheet.Open(f, st.Size(), "register.xlsx")
	must(t, err)
	defer r.Close()
	peak := streamAndMeasure(t, r, rows)
	t.Logf("%d rows, %.1f MiB file, peak heap in use %.1f MiB", rows, float64(st.Size())/(1<<20), float64(peak)/(1<<20))
	if peak > heapBound {
		t.Errorf("heap in use reached %.1f MiB, bound %d MiB", float64(peak)/(1<<20), heapBound>>20)
	}
}

func BenchmarkCSVRows(b *testing.B) {
	var buf bytes.Buffer
	writeBigCSV(b, &buf, 100_000)
	benchmarkRows(b, buf.Bytes(), "register.csv", 100_000)
}

func BenchmarkXLSXRows(b *testing.B) {
	var buf bytes.Buffer
	writeBigXLSX(b, &buf, 100_000)
	benchmarkRows(b, buf.Bytes(), "register.xlsx", 100_000)
}

// benchmarkRows opens and reads the whole file each time and reports rows/s.
func benchmarkRows(b *testing.B, data []byte, name string, rows int) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	runs := 0
	for b.Loop() {
		r, err := sheet.Open(bytes.NewReader(data), int64(len(data)), name)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			_, _, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if err := r.Close(); err != nil {
			b.Fatal(err)
		}
		if n != rows {
			b.Fatalf("%d rows, want %d", n, rows)
		}
		runs++
	}
	b.ReportMetric(float64(rows*runs)/b.Elapsed().Seconds(), "rows/s")
}
