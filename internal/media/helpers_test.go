package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"

	"github.com/gridhall/gridhall/internal/errs"
)

// Test colours: far apart, so they survive JPEG.
var (
	red   = color.RGBA{220, 20, 20, 255}
	green = color.RGBA{20, 200, 20, 255}
	blue  = color.RGBA{20, 20, 220, 255}
)

// markedImage is a w×h blue image with a red square in the top-left corner
// and a green one in the top-right, so that every flip and turn of it looks
// different.
func markedImage(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	sq := min(w, h) / 4
	for x := range w {
		m.SetRGBA(x, 0, blue)
		m.SetRGBA(x, sq, blue)
		switch {
		case x < sq:
			m.SetRGBA(x, 0, red)
		case x >= w-sq:
			m.SetRGBA(x, 0, green)
		}
	}
	// Copy the two kinds of rows: faster than setting pixels, which
	// matters for the large images under the race detector.
	for y := 1; y < h; y++ {
		from := 0
		if y >= sq {
			from = sq
		}
		copy(m.Pix[y*m.Stride:(y+1)*m.Stride], m.Pix[from*m.Stride:(from+1)*m.Stride])
	}
	return m
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeGIF(t testing.TB, g *gif.GIF) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, g); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// withSegment inserts a JPEG segment right after the SOI marker.
func withSegment(jpg []byte, marker byte, body []byte) []byte {
	seg := []byte{0xFF, marker, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(body)+2))
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	out = append(out, body...)
	return append(out, jpg[2:]...)
}

// withExif inserts an APP1 Exif segment holding a TIFF structure.
func withExif(jpg, tiff []byte) []byte {
	return withSegment(jpg, 0xE1, append([]byte("Exif\x00\x00"), tiff...))
}

// tiffEntry is an IFD entry: its value is already encoded in the TIFF's byte
// order; up to 4 bytes go in the entry, more go to the data area.
type tiffEntry struct {
	tag, typ uint16
	count    uint32
	value    []byte
}

// TIFF field types.
const (
	tByte     = 1
	tASCII    = 2
	tShort    = 3
	tLong     = 4
	tRational = 5
)

// buildTIFF lays out a TIFF structure with IFD0 and, if gps is not nil, a
// GPS IFD that IFD0 points to, as cameras write them.
func buildTIFF(bo binary.ByteOrder, ifd0, gps []tiffEntry) []byte {
	if gps != nil {
		ifd0 = append(append([]tiffEntry{}, ifd0...), tiffEntry{0x8825, tLong, 1, nil}) // GPSInfo pointer, set below
	}
	ifdSize := func(n int) int { return 2 + 12*n + 4 }
	gpsAt := 8 + ifdSize(len(ifd0))
	dataAt := gpsAt
	if gps != nil {
		dataAt += ifdSize(len(gps))
	}

	out := make([]byte, dataAt)
	if bo == binary.ByteOrder(binary.LittleEndian) {
		copy(out, "II*\x00")
	} else {
		copy(out, "MM\x00*")
	}
	bo.PutUint32(out[4:], 8)
	writeIFD := func(at int, entries []tiffEntry) {
		bo.PutUint16(out[at:], uint16(len(entries)))
		for i, e := range entries {
			p := at + 2 + 12*i
			bo.PutUint16(out[p:], e.tag)
			bo.PutUint16(out[p+2:], e.typ)
			bo.PutUint32(out[p+4:], e.count)
			switch {
			case e.tag == 0x8825 && e.value == nil:
				bo.PutUint32(out[p+8:], uint32(gpsAt))
			case len(e.value) <= 4:
				copy(out[p+8:p+12], e.value)
			default:
				bo.PutUint32(out[p+8:], uint32(len(out)))
				out = append(out, e.value...)
			}
		}
	}
	writeIFD(8, ifd0)
	if gps != nil {
		writeIFD(gpsAt, gps)
	}
	return out
}

func short(bo binary.ByteOrder, v uint16) []byte {
	b := make([]byte, 2)
	bo.PutUint16(b, v)
	return b
}

func rationals(bo binary.ByteOrder, v ...uint32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		bo.PutUint32(b[4*i:], x)
	}
	return b
}

// The GPS position of the test photos: 30°35'12.345678"N 114°17'56.789012"E
// (Wuhan), as rationals whose bytes are easy to search for.
func gpsLatitude(bo binary.ByteOrder) []byte {
	return rationals(bo, 30, 1, 35, 1, 12345678, 1000000)
}

func gpsLongitude(bo binary.ByteOrder) []byte {
	return rationals(bo, 114, 1, 17, 1, 56789012, 1000000)
}

// artist is a personal name in IFD0, like the owner name cameras write.
const artist = "Zhang San, 138-0013-8000"

// cameraExif is an EXIF structure like a phone's: an orientation, a
// personal name and a GPS position.
func cameraExif(bo binary.ByteOrder, orientation uint16) []byte {
	return buildTIFF(bo,
		[]tiffEntry{
			{0x0112, tShort, 1, short(bo, orientation)},
			{0x013B, tASCII, uint32(len(artist) + 1), []byte(artist + "\x00")},
		},
		[]tiffEntry{
			{0x0000, tByte, 4, []byte{2, 3, 0, 0}}, // GPSVersionID
			{0x0001, tASCII, 2, []byte("N\x00")},
			{0x0002, tRational, 3, gpsLatitude(bo)},
			{0x0003, tASCII, 2, []byte("E\x00")},
			{0x0004, tRational, 3, gpsLongitude(bo)},
		})
}

// pngChunk encodes a PNG chunk with its CRC.
func pngChunk(typ string, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
}

// withPNGChunk inserts a chunk right after IHDR (8-byte signature, then IHDR
// of 4+4+13+4 bytes).
func withPNGChunk(p []byte, chunk []byte) []byte {
	const afterIHDR = 8 + 25
	out := append([]byte{}, p[:afterIHDR]...)
	out = append(out, chunk...)
	return append(out, p[afterIHDR:]...)
}

// pngHeader is a PNG whose header declares w×h 8-bit RGB pixels, followed by
// a tiny image data chunk and the end: a decompression bomb's shape.
func pngHeader(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 2, 0, 0, 0)
	b := []byte("\x89PNG\r\n\x1a\n")
	b = append(b, pngChunk("IHDR", ihdr)...)
	b = append(b, pngChunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})...)
	return append(b, pngChunk("IEND", nil)...)
}

// jpegHeader is a baseline JPEG declaring w×h pixels in three components,
// with a start of scan but no Huffman tables and no image data.
func jpegHeader(w, h uint16) []byte {
	sof := []byte{8, 0, 0, 0, 0, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1}
	binary.BigEndian.PutUint16(sof[1:], h)
	binary.BigEndian.PutUint16(sof[3:], w)
	b := []byte{0xFF, 0xD8}
	dqt := append([]byte{0}, bytes.Repeat([]byte{1}, 64)...)
	b = append(b, 0xFF, 0xDB, 0, byte(len(dqt)+2))
	b = append(b, dqt...)
	dqt[0] = 1
	b = append(b, 0xFF, 0xDB, 0, byte(len(dqt)+2))
	b = append(b, dqt...)
	b = append(b, 0xFF, 0xC0, 0, byte(len(sof)+2))
	b = append(b, sof...)
	b = append(b, 0xFF, 0xDA, 0, 12, 3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0)
	return append(b, 0xFF, 0xD9)
}

// gifHeader is a GIF whose logical screen is w×h, with one 1×1 frame.
func gifHeader(w, h uint16) []byte {
	b := []byte("GIF89a")
	b = binary.LittleEndian.AppendUint16(b, w)
	b = binary.LittleEndian.AppendUint16(b, h)
	b = append(b, 0x80, 0, 0, 0, 0, 0, 255, 255, 255) // 2-colour global table
	b = append(b, 0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0)    // image descriptor 1×1
	b = append(b, 2, 2, 0x4C, 0x01, 0, 0x3B)          // LZW data, trailer
	return b
}

// webpHeader is an extended WebP whose canvas is w×h, with no image.
func webpHeader(w, h uint32) []byte {
	vp8x := []byte{0, 0, 0, 0}
	vp8x = append(vp8x, byte(w-1), byte((w-1)>>8), byte((w-1)>>16))
	vp8x = append(vp8x, byte(h-1), byte((h-1)>>8), byte((h-1)>>16))
	body := append([]byte("WEBPVP8X"), 10, 0, 0, 0)
	body = append(body, vp8x...)
	b := append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...)
	return append(b, body...)
}

// wantInvalid checks that err is an errs.Invalid error with key on "photo".
func wantInvalid(t testing.TB, err error, key string) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v, want an *errs.Error", err)
	}
	if e.Code != errs.Invalid || e.Fields["photo"] != key || len(e.Fields) != 1 {
		t.Fatalf("error = %v, want invalid with photo: %s", err, key)
	}
}

// near reports whether two colours are within JPEG's error of each other.
func near(a color.Color, b color.RGBA) bool {
	r, g, bl, _ := a.RGBA()
	d := func(x uint32, y uint8) int { return abs(int(x>>8) - int(y)) }
	return d(r, b.R) < 40 && d(g, b.G) < 40 && d(bl, b.B) < 40
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func decode(t testing.TB, data []byte) image.Image {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("output does not decode: %v", err)
	}
	return img
}
