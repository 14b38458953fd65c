package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gridhall/gridhall/internal/errs"
)

// tinyJPEG is a valid 8×8 JPEG without metadata.
func tinyJPEG(t testing.TB) []byte {
	return encodeJPEG(t, image.NewGray(image.Rect(0, 0, 8, 8)))
}

// orientationTIFF is a TIFF structure whose IFD0 holds only an orientation
// entry of the given type and count, the value in the first bytes of the
// value field.
func orientationTIFF(bo binary.ByteOrder, typ uint16, count uint32, v uint32) []byte {
	val := make([]byte, 4)
	if typ == tShort {
		bo.PutUint16(val, uint16(v))
	} else {
		bo.PutUint32(val, v)
	}
	return buildTIFF(bo, []tiffEntry{{0x0112, typ, count, val}}, nil)
}

func TestExifOrientation(t *testing.T) {
	be, le := binary.BigEndian, binary.LittleEndian
	base := tinyJPEG(t)
	xmp := append([]byte("http://ns.adobe.com/xap/1.0/\x00"), `<x:xmpmeta xmlns:x="adobe:ns:meta/"/>`...)

	// Exif that comes only after the start of scan is image data, not
	// metadata.
	app1 := withExif([]byte{0xFF, 0xD8}, orientationTIFF(be, tShort, 1, 6))[2:]
	afterSOS := slices.Concat([]byte{0xFF, 0xD8, 0xFF, 0xDA, 0, 2}, app1, base[2:])

	cases := []struct {
		name string
		in   []byte
		want int
	}{
		{"no metadata", base, 1},
		{"not a JPEG", []byte("GIF89a"), 1},
		{"empty", nil, 1},
		{"SOI only", []byte{0xFF, 0xD8}, 1},
		{"big-endian 6", withExif(base, orientationTIFF(be, tShort, 1, 6)), 6},
		{"little-endian 3", withExif(base, orientationTIFF(le, tShort, 1, 3)), 3},
		{"camera layout: name, GPS IFD", withExif(base, cameraExif(le, 8)), 8},
		{"LONG instead of SHORT", withExif(base, orientationTIFF(be, tLong, 1, 5)), 5},
		{"after JFIF and XMP segments", withSegment(withSegment(withExif(base, orientationTIFF(le, tShort, 1, 7)), 0xE1, xmp), 0xE0, []byte("JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")), 7},
		{"fill bytes before the marker", append([]byte{0xFF, 0xD8, 0xFF, 0xFF}, withExif(base, orientationTIFF(be, tShort, 1, 2))[3:]...), 2},
		{"after the start of scan", afterSOS, 1},
		{"the first Exif segment counts", withExif(withExif(base, orientationTIFF(be, tShort, 1, 8)), orientationTIFF(be, tShort, 1, 4)), 4},
		{"value 0", withExif(base, orientationTIFF(be, tShort, 1, 0)), 1},
		{"value 9", withExif(base, orientationTIFF(be, tShort, 1, 9)), 1},
		{"SHORT 6 read as LONG would be huge", withExif(base, orientationTIFF(be, tLong, 1, 6<<16)), 1},
		{"count 2", withExif(base, orientationTIFF(be, tShort, 2, 6)), 1},
		{"ASCII type", withExif(base, orientationTIFF(be, tASCII, 1, 6)), 1},
		{"no orientation tag", withExif(base, buildTIFF(be, []tiffEntry{{0x013B, tASCII, 2, []byte("x\x00")}}, nil)), 1},
		{"bad byte order mark", withExif(base, append([]byte("XX\x00*"), orientationTIFF(be, tShort, 1, 6)[4:]...)), 1},
		{"IFD offset past the end", withExif(base, []byte("MM\x00*\x7f\xff\xff\xff")), 1},
		{"IFD offset inside the header", withExif(base, []byte("MM\x00*\x00\x00\x00\x04\x00\x00")), 1},
		{"IFD offset 2^32-1", withExif(base, []byte("II*\x00\xff\xff\xff\xff")), 1},
		{"entry count past the end", withExif(base, []byte("MM\x00*\x00\x00\x00\x08\xff\xff\x01\x12")), 1},
		{"TIFF cut short", withExif(base, orientationTIFF(be, tShort, 1, 6)[:17]), 1},
		{"segment length past the end", []byte{0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF, 'E', 'x', 'i', 'f', 0, 0}, 1},
		{"segment length below 2", []byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x01, 'E', 'x', 'i', 'f', 0, 0}, 1},
		{"segment without a marker", []byte{0xFF, 0xD8, 0x00, 0xE1, 0x00, 0x10}, 1},
		{"Exif without its two zero bytes", withSegment(base, 0xE1, append([]byte("Exif"), orientationTIFF(be, tShort, 1, 6)...)), 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := exifOrientation(c.in); got != c.want {
				t.Errorf("exifOrientation = %d, want %d", got, c.want)
			}
		})
	}
}

// withScans inserts n start-of-scan segments, each followed by entropy-coded
// bytes with a stuffed 0xFF and a restart marker, before the final EOI.
func withScans(jpg []byte, n int) []byte {
	sos := []byte{0xFF, 0xDA, 0, 8, 1, 1, 0x00, 1, 63, 0x00, 0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56}
	out := slices.Clone(jpg[:len(jpg)-2])
	for range n {
		out = append(out, sos...)
	}
	return append(out, 0xFF, 0xD9)
}

func TestJPEGScans(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
		want int
	}{
		{"baseline", tinyJPEG(t), 1},
		{"baseline with restart markers", read(t, "video-001.restart2.jpeg"), 1},
		{"progressive", read(t, "video-001.q50.420.progressive.jpeg"), 10},
		{"header only", jpegHeader(8, 8), 1},
		{"stuffed bytes and restarts in scans", withScans(jpegHeader(8, 8), 4), 5},
		{"not a JPEG", []byte("\x89PNG"), 0},
	}
	for _, c := range cases {
		if got := jpegScans(c.in); got != c.want {
			t.Errorf("%s: %d scans, want %d", c.name, got, c.want)
		}
	}

	// A file of many tiny scans is refused before decoding; one at the
	// limit is not refused for its scans (it fails later, having no
	// Huffman tables).
	_, err := Process(bytes.NewReader(withScans(jpegHeader(3000, 3000), maxScans-1)), DefaultLimits())
	wantInvalid(t, err, ErrCorrupt)
	if errors.Is(err, errTooManyScans) {
		t.Errorf("%d scans refused as too many", maxScans)
	}
	_, err = Process(bytes.NewReader(withScans(jpegHeader(3000, 3000), maxScans)), DefaultLimits())
	wantInvalid(t, err, ErrCorrupt)
	if !errors.Is(err, errTooManyScans) {
		t.Errorf("%d scans: %v, want errTooManyScans", maxScans+1, err)
	}
}

// exifSeeds are inputs for the fuzz targets: JPEG files with and without
// Exif, and bare TIFF structures.
func exifSeeds(t testing.TB) [][]byte {
	base := tinyJPEG(t)
	var seeds [][]byte
	for _, bo := range []binary.ByteOrder{binary.BigEndian, binary.LittleEndian} {
		tiff := cameraExif(bo, 6)
		seeds = append(seeds, tiff, withExif(base, tiff), orientationTIFF(bo, tLong, 1, 3))
	}
	return append(seeds, base, []byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x08, 'E', 'x', 'i', 'f', 0, 0})
}

// FuzzExifOrientation feeds the EXIF reader arbitrary bytes, both as a whole
// JPEG file and as the TIFF body of an Exif segment. It must never panic,
// must return an orientation between 1 and 8, and must find in a segment
// exactly what the TIFF reader finds in its body.
func FuzzExifOrientation(f *testing.F) {
	for _, s := range exifSeeds(f) {
		f.Add(s)
	}
	base := tinyJPEG(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		if o := exifOrientation(data); o < 1 || o > 8 {
			t.Fatalf("exifOrientation = %d", o)
		}
		o, ok := tiffOrientation(data)
		if ok && (o < 1 || o > 8) {
			t.Fatalf("tiffOrientation = %d, true", o)
		}
		if !ok {
			o = 1
		}
		if len(data) > 0xFFFF-8 {
			return
		}
		if got := exifOrientation(withExif(base, data)); got != o {
			t.Fatalf("in a segment: %d, bare: %d", got, o)
		}
	})
}

// FuzzProcess feeds Process arbitrary files. It must never panic; a failure
// must be an errs.Invalid naming the photo with one of the four keys, and a
// success must satisfy checkPhoto. Limits are small so that headers
// declaring big images do not make each run slow.
func FuzzProcess(f *testing.F) {
	for _, s := range exifSeeds(f) {
		f.Add(s)
	}
	f.Add(withPNGChunk(encodePNG(f, markedImage(12, 8)), pngChunk("tEXt", []byte("Comment\x00secret"))))
	f.Add(encodeJPEG(f, markedImage(16, 16)))
	f.Add(gifHeader(1, 1))
	f.Add(gifHeader(5000, 5000))
	f.Add(pngHeader(3000, 3000))
	f.Add(jpegHeader(3000, 3000))
	f.Add(webpHeader(3000, 3000))
	for _, name := range []string{"blue-purple-pink.lossy.webp", "video-001.q50.420.progressive.jpeg"} {
		if b, err := os.ReadFile(filepath.Join("testdata", name)); err == nil {
			f.Add(b)
		}
	}
	f.Add(withScans(jpegHeader(8, 8), maxScans+1))
	f.Add([]byte("not an image"))
	lim := Limits{MaxBytes: 1 << 20, MaxPixels: 1 << 20}
	keys := []string{ErrTooLarge, ErrType, ErrCorrupt, ErrDimensions}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Process(bytes.NewReader(data), lim)
		if err != nil {
			var e *errs.Error
			if !errors.As(err, &e) || e.Code != errs.Invalid || !slices.Contains(keys, e.Fields["photo"]) {
				t.Fatalf("error %v, want invalid with a photo key", err)
			}
			return
		}
		checkPhoto(t, p)
		if bytes.Contains(p.Data, []byte("Exif\x00\x00")) {
			t.Fatal("output holds an Exif segment")
		}
	})
}
