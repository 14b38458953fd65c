package media

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/gridhall/gridhall/internal/errs"
)

// checkPhoto checks what every successful result must satisfy: the data
// decodes to the stated type and size, the digest matches, and the thumbnail
// is a JPEG of the right size.
func checkPhoto(t *testing.T, p Photo) image.Image {
	t.Helper()
	img, format, err := image.Decode(bytes.NewReader(p.Data))
	if err != nil {
		t.Fatalf("Data does not decode: %v", err)
	}
	if "image/"+format != p.ContentType {
		t.Errorf("Data is %s, ContentType %s", format, p.ContentType)
	}
	if b := img.Bounds(); b.Dx() != p.Width || b.Dy() != p.Height {
		t.Errorf("Data is %v, Width×Height %d×%d", b.Size(), p.Width, p.Height)
	}
	if max(p.Width, p.Height) > MaxSide {
		t.Errorf("photo is %d×%d, over %d", p.Width, p.Height, MaxSide)
	}
	sum := sha256.Sum256(p.Data)
	if p.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("SHA256 = %s, want the digest of Data", p.SHA256)
	}
	thumb, format, err := image.Decode(bytes.NewReader(p.Thumb))
	if err != nil || format != "jpeg" || p.ThumbType != TypeJPEG {
		t.Fatalf("thumbnail: format %q, ThumbType %q, err %v", format, p.ThumbType, err)
	}
	tw, th := scaledSize(p.Width, p.Height, ThumbSide)
	if b := thumb.Bounds(); b.Dx() != tw || b.Dy() != th {
		t.Errorf("thumbnail is %v, want %d×%d", b.Size(), tw, th)
	}
	return img
}

// corners returns the colours near the four corners of img, in the order
// top-left, top-right, bottom-left, bottom-right.
func corners(img image.Image) [4]color.Color {
	b := img.Bounds()
	in := min(b.Dx(), b.Dy()) / 16
	return [4]color.Color{
		img.At(b.Min.X+in, b.Min.Y+in),
		img.At(b.Max.X-1-in, b.Min.Y+in),
		img.At(b.Min.X+in, b.Max.Y-1-in),
		img.At(b.Max.X-1-in, b.Max.Y-1-in),
	}
}

// read returns a file of testdata.
func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestProcessStripsExifAndTurnsUpright(t *testing.T) {
	const w, h = 64, 32
	// Where the red and green marks of markedImage (top-left and top-right
	// when stored) must be once the photo is shown as its orientation says.
	const tl, tr, bl, br = 0, 1, 2, 3
	cases := []struct {
		orientation uint16
		red, green  int
		turned      bool // width and height swap
	}{
		{1, tl, tr, false},
		{2, tr, tl, false}, // mirrored
		{3, br, bl, false}, // upside down
		{4, bl, br, false}, // mirrored top-bottom
		{5, tl, bl, true},  // transposed
		{6, tr, br, true},  // turn 90° clockwise: the usual phone held upright
		{7, br, tr, true},  // transversed
		{8, bl, tl, true},  // turn 90° anticlockwise
		{0, tl, tr, false}, // invalid values are ignored
		{9, tl, tr, false},
	}
	for _, bo := range []binary.ByteOrder{binary.BigEndian, binary.LittleEndian} {
		for _, c := range cases {
			t.Run(fmt.Sprintf("%v/%d", bo, c.orientation), func(t *testing.T) {
				in := withExif(encodeJPEG(t, markedImage(w, h)), cameraExif(bo, c.orientation))
				if !bytes.Contains(in, gpsLatitude(bo)) {
					t.Fatal("the test photo lacks its GPS position")
				}
				p, err := Process(bytes.NewReader(in), DefaultLimits())
				if err != nil {
					t.Fatal(err)
				}
				img := checkPhoto(t, p)
				if p.ContentType != TypeJPEG {
					t.Errorf("ContentType = %s, want %s", p.ContentType, TypeJPEG)
				}
				for _, leak := range [][]byte{[]byte("Exif"), gpsLatitude(bo), gpsLongitude(bo), []byte(artist), []byte("Zhang")} {
					if bytes.Contains(p.Data, leak) || bytes.Contains(p.Thumb, leak) {
						t.Errorf("output still contains %q", leak)
					}
				}
				wantW, wantH := w, h
				if c.turned {
					wantW, wantH = h, w
				}
				if p.Width != wantW || p.Height != wantH {
					t.Errorf("size %d×%d, want %d×%d", p.Width, p.Height, wantW, wantH)
				}
				for _, m := range []image.Image{img, decode(t, p.Thumb)} {
					cs := corners(m)
					if !near(cs[c.red], red) || !near(cs[c.green], green) {
						t.Errorf("corners %v: want red at %d and green at %d", cs, c.red, c.green)
					}
				}
			})
		}
	}
}

func TestProcessStripsPNGChunks(t *testing.T) {
	src := markedImage(40, 30)
	in := encodePNG(t, src)
	secret := "30.5867N 114.2991E home of Li Si"
	in = withPNGChunk(in, pngChunk("tEXt", []byte("Comment\x00"+secret)))
	in = withPNGChunk(in, pngChunk("iTXt", []byte("Location\x00\x00\x00zh\x00位置\x00"+secret)))
	in = withPNGChunk(in, pngChunk("eXIf", cameraExif(binary.BigEndian, 1)))
	if _, err := png.Decode(bytes.NewReader(in)); err != nil {
		t.Fatalf("the test PNG is broken: %v", err)
	}

	p, err := Process(bytes.NewReader(in), DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	img := checkPhoto(t, p)
	if p.ContentType != TypePNG {
		t.Errorf("ContentType = %s, want %s", p.ContentType, TypePNG)
	}
	for _, leak := range []string{"tEXt", "iTXt", "eXIf", "Comment", secret, artist} {
		if bytes.Contains(p.Data, []byte(leak)) {
			t.Errorf("output still contains %q", leak)
		}
	}
	// PNG stays lossless.
	for y := range 30 {
		for x := range 40 {
			if got, want := color.RGBAModel.Convert(img.At(x, y)), src.At(x, y); got != want {
				t.Fatalf("pixel (%d, %d) = %v, want %v", x, y, got, want)
			}
		}
	}
}

func TestProcessFormats(t *testing.T) {
	webpSimple := read(t, "blue-purple-pink.lossy.webp")
	webpAlpha := read(t, "yellow_rose.lossy-with-alpha.webp")
	// A two-frame GIF: the first frame is red, placed off the origin
	// inside a larger screen, with a transparent part; the second is blue.
	pal := color.Palette{color.Transparent, red, blue}
	first := image.NewPaletted(image.Rect(10, 5, 30, 25), pal)
	for y := 5; y < 25; y++ {
		for x := 10; x < 30; x++ {
			if x < 20 {
				first.SetColorIndex(x, y, 1)
			}
		}
	}
	second := image.NewPaletted(image.Rect(0, 0, 40, 30), pal)
	for i := range second.Pix {
		second.Pix[i] = 2
	}
	anim := encodeGIF(t, &gif.GIF{
		Image: []*image.Paletted{first, second}, Delay: []int{10, 10},
		Config: image.Config{Width: 40, Height: 30, ColorModel: pal},
	})

	gray := image.NewGray16(image.Rect(0, 0, 30, 20))
	for i := range gray.Pix {
		gray.Pix[i] = uint8(i)
	}

	cases := []struct {
		name        string
		in          []byte
		contentType string
		w, h        int
		check       func(t *testing.T, img image.Image)
	}{
		{"JPEG without metadata", encodeJPEG(t, markedImage(50, 40)), TypeJPEG, 50, 40, nil},
		{"progressive JPEG", read(t, "video-001.q50.420.progressive.jpeg"), TypeJPEG, 150, 103, nil},
		{"CMYK JPEG", read(t, "video-001.cmyk.jpeg"), TypeJPEG, 150, 103, nil},
		{"JPEG with restart markers", read(t, "video-001.restart2.jpeg"), TypeJPEG, 150, 103, nil},
		{"16-bit grey PNG", encodePNG(t, gray), TypePNG, 30, 20, nil},
		{"GIF keeps its first frame as PNG", anim, TypePNG, 20, 20, func(t *testing.T, img image.Image) {
			b := img.Bounds()
			if !near(img.At(b.Min.X+2, b.Min.Y+2), red) {
				t.Errorf("left half = %v, want red", img.At(b.Min.X+2, b.Min.Y+2))
			}
			if _, _, _, a := img.At(b.Max.X-2, b.Min.Y+2).RGBA(); a != 0 {
				t.Errorf("right half alpha = %d, want transparent", a)
			}
		}},
		{"small GIF", gifHeader(1, 1), TypePNG, 1, 1, nil},
		{"WebP becomes JPEG", webpSimple, TypeJPEG, 150, 100, nil},
		{"WebP with alpha is laid on white", webpAlpha, TypeJPEG, 400, 301, func(t *testing.T, img image.Image) {
			// The rose's corners are transparent.
			for _, c := range corners(img) {
				if !near(c, color.RGBA{255, 255, 255, 255}) {
					t.Errorf("corner = %v, want white", c)
				}
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Process(bytes.NewReader(c.in), DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			img := checkPhoto(t, p)
			if p.ContentType != c.contentType || p.Width != c.w || p.Height != c.h {
				t.Errorf("got %s %d×%d, want %s %d×%d", p.ContentType, p.Width, p.Height, c.contentType, c.w, c.h)
			}
			if c.check != nil {
				c.check(t, img)
			}
		})
	}
}

func TestProcessScalesDown(t *testing.T) {
	cases := []struct {
		name        string
		in          func(t *testing.T) []byte
		w, h        int
		red, green  int // corner indexes, as in corners
		contentType string
	}{
		{"landscape PNG", func(t *testing.T) []byte { return encodePNG(t, markedImage(2600, 1000)) }, 2560, 985, 0, 1, TypePNG},
		{"portrait JPEG", func(t *testing.T) []byte { return encodeJPEG(t, markedImage(1000, 2700)) }, 948, 2560, 0, 1, TypeJPEG},
		{"JPEG turned after scaling", func(t *testing.T) []byte {
			return withExif(encodeJPEG(t, markedImage(2700, 1800)), cameraExif(binary.LittleEndian, 6))
		}, 1707, 2560, 1, 3, TypeJPEG},
		{"exactly the limit is kept", func(t *testing.T) []byte { return encodeJPEG(t, markedImage(2560, 100)) }, 2560, 100, 0, 1, TypeJPEG},
		{"one pixel high", func(t *testing.T) []byte { return encodePNG(t, image.NewGray(image.Rect(0, 0, 6000, 1))) }, 2560, 1, -1, -1, TypePNG},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Process(bytes.NewReader(c.in(t)), DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			img := checkPhoto(t, p)
			if p.ContentType != c.contentType || p.Width != c.w || p.Height != c.h {
				t.Errorf("got %s %d×%d, want %s %d×%d", p.ContentType, p.Width, p.Height, c.contentType, c.w, c.h)
			}
			if c.red >= 0 {
				cs := corners(img)
				if !near(cs[c.red], red) || !near(cs[c.green], green) {
					t.Errorf("corners %v: want red at %d and green at %d", cs, c.red, c.green)
				}
			}
		})
	}
}

func TestFitAveragesExactly(t *testing.T) {
	// A 6×3 image of vertical stripes, 2 px black then 1 px white, shrunk
	// to 2×1: each output pixel covers 3×3 pixels, a third of them white.
	src := image.NewGray(image.Rect(0, 0, 6, 3))
	for y := range 3 {
		for x := range 6 {
			if x%3 == 2 {
				src.SetGray(x, y, color.Gray{255})
			}
		}
	}
	got := toRGBA(fit(src, 2))
	for x := range 2 {
		if c := got.RGBAAt(x, 0); c != (color.RGBA{85, 85, 85, 255}) {
			t.Errorf("pixel %d = %v, want grey 85", x, c)
		}
	}

	// A fractional ratio: 5 px → 2 px, each output pixel covers 2.5.
	row := image.NewGray(image.Rect(0, 0, 5, 1))
	copy(row.Pix, []uint8{0, 100, 200, 100, 0})
	got = toRGBA(fit(row, 2))
	want := []uint8{(0 + 100 + 100) * 2 / 5, (100 + 100 + 0) * 2 / 5}
	for x := range 2 {
		if c := got.RGBAAt(x, 0); c.R != want[x] || c.A != 255 {
			t.Errorf("pixel %d = %v, want grey %d", x, c, want[x])
		}
	}
}

func TestOrientIsExact(t *testing.T) {
	// A 3×2 image with every pixel different:
	//   a b c
	//   d e f
	src := image.NewRGBA(image.Rect(0, 0, 3, 2))
	for i := range 6 {
		src.SetRGBA(i%3, i/3, color.RGBA{uint8('a' + i), 0, 0, 255})
	}
	cases := map[int][]string{
		1: {"abc", "def"},
		2: {"cba", "fed"},
		3: {"fed", "cba"},
		4: {"def", "abc"},
		5: {"ad", "be", "cf"},
		6: {"da", "eb", "fc"},
		7: {"fc", "eb", "da"},
		8: {"cf", "be", "ad"},
	}
	for o, want := range cases {
		img := toRGBA(orient(src, o))
		var got []string
		for y := range img.Rect.Dy() {
			var s strings.Builder
			for x := range img.Rect.Dx() {
				s.WriteByte(img.RGBAAt(x, y).R)
			}
			got = append(got, s.String())
		}
		if strings.Join(got, "/") != strings.Join(want, "/") {
			t.Errorf("orientation %d: %v, want %v", o, got, want)
		}
	}
}

func TestProcessRefusesBadInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 4096)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	good := encodeJPEG(t, markedImage(64, 48))

	// A file named like a PNG that holds text: the name means nothing.
	dir := t.TempDir()
	fake := filepath.Join(dir, "photo.png")
	if err := os.WriteFile(fake, []byte("this is not a picture, just notes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fakeData, err := os.ReadFile(fake)
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name string
		in   []byte
		lim  Limits
		want string
	}{
		{"empty", nil, DefaultLimits(), ErrType},
		{"random bytes", random, DefaultLimits(), ErrType},
		{"text named .png", fakeData, DefaultLimits(), ErrType},
		{"HTML", []byte("<html><script>alert(1)</script></html>"), DefaultLimits(), ErrType},
		{"BMP", append([]byte("BM"), make([]byte, 60)...), DefaultLimits(), ErrType},
		{"HEIC", append([]byte{0, 0, 0, 0x18}, []byte("ftypheic")...), DefaultLimits(), ErrType},
		{"JPEG magic then garbage", append([]byte{0xFF, 0xD8, 0xFF}, random...), DefaultLimits(), ErrCorrupt},
		{"truncated JPEG", good[:len(good)/2], DefaultLimits(), ErrCorrupt},
		{"JPEG header only", jpegHeader(64, 48), DefaultLimits(), ErrCorrupt},
		{"PNG magic only", []byte("\x89PNG\r\n\x1a\n"), DefaultLimits(), ErrCorrupt},
		{"PNG with zero width", pngHeader(0, 10), DefaultLimits(), ErrCorrupt},
		{"PNG with broken data", pngHeader(10, 10), DefaultLimits(), ErrCorrupt},
		{"GIF magic only", []byte("GIF89a"), DefaultLimits(), ErrCorrupt},
		{"WebP header only", webpHeader(10, 10), DefaultLimits(), ErrCorrupt},
		{"over MaxBytes", good, Limits{MaxBytes: int64(len(good)) - 1, MaxPixels: 1 << 20}, ErrTooLarge},
		{"over MaxPixels", good, Limits{MaxBytes: 1 << 20, MaxPixels: 64*48 - 1}, ErrDimensions},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Process(bytes.NewReader(c.in), c.lim)
			wantInvalid(t, err, c.want)
		})
	}

	// At the limits exactly, the same photo passes.
	lim := Limits{MaxBytes: int64(len(good)), MaxPixels: 64 * 48}
	if _, err := Process(bytes.NewReader(good), lim); err != nil {
		t.Errorf("at the limits: %v", err)
	}
}

// endless is a reader that never ends, counting what was read from it.
type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 0xFF
	}
	e.n += int64(len(p))
	return len(p), nil
}

func TestProcessReadsAtMostTheLimit(t *testing.T) {
	r := &endless{}
	_, err := Process(r, Limits{MaxBytes: 100_000, MaxPixels: 1 << 20})
	wantInvalid(t, err, ErrTooLarge)
	if r.n != 100_001 {
		t.Errorf("read %d bytes, want MaxBytes+1 = 100001", r.n)
	}

	// The web layer's own cap reports as too large, not as a server error.
	body := http.MaxBytesReader(httptest.NewRecorder(), io.NopCloser(&endless{}), 1000)
	_, err = Process(body, DefaultLimits())
	wantInvalid(t, err, ErrTooLarge)

	// Other read errors are the server's.
	_, err = Process(io.MultiReader(bytes.NewReader([]byte{0xFF, 0xD8}), errReader{}), DefaultLimits())
	if errs.CodeOf(err) != errs.Internal {
		t.Errorf("read error gave %v, want an internal error", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestProcessRefusesBombsBeforeDecoding(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
		want string
	}{
		{"PNG 100000×100000", pngHeader(100_000, 100_000), ErrDimensions},
		{"JPEG 65535×65535", jpegHeader(65535, 65535), ErrDimensions},
		{"GIF 65535×65535", gifHeader(65535, 65535), ErrDimensions},
		{"WebP 40000×40000", webpHeader(40000, 40000), ErrDimensions},
		{"PNG just over", pngHeader(8001, 5000), ErrDimensions},
		// The PNG decoder itself refuses sizes whose rows overflow.
		{"PNG 2^31-1 × 2^31-1", pngHeader(1<<31-1, 1<<31-1), ErrCorrupt},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := Process(bytes.NewReader(c.in), DefaultLimits())
			runtime.ReadMemStats(&after)
			wantInvalid(t, err, c.want)
			// Decoding would allocate the declared pixels: gigabytes.
			if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
				t.Errorf("allocated %d bytes to refuse it", n)
			}
		})
	}
}

func TestDefaultLimitsAndZeroLimits(t *testing.T) {
	if d := DefaultLimits(); d.MaxBytes != 10<<20 || d.MaxPixels != 40_000_000 {
		t.Errorf("DefaultLimits() = %+v", d)
	}
	// Zero limits mean the defaults, not "nothing allowed".
	if _, err := Process(bytes.NewReader(encodeJPEG(t, markedImage(8, 8))), Limits{}); err != nil {
		t.Errorf("zero Limits: %v", err)
	}
	_, err := Process(bytes.NewReader(pngHeader(8000, 5001)), Limits{})
	wantInvalid(t, err, ErrDimensions)
}

func TestProcessIsDeterministic(t *testing.T) {
	in := withExif(encodeJPEG(t, markedImage(300, 200)), cameraExif(binary.BigEndian, 8))
	a, err := Process(bytes.NewReader(in), DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	b, err := Process(bytes.NewReader(in), DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if a.SHA256 != b.SHA256 || !bytes.Equal(a.Thumb, b.Thumb) {
		t.Error("the same upload gave different results")
	}
	// Re-processing the output changes nothing that matters: no metadata
	// appears, the size stays.
	c, err := Process(bytes.NewReader(a.Data), DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if c.Width != a.Width || c.Height != a.Height {
		t.Errorf("re-processed %d×%d, first %d×%d", c.Width, c.Height, a.Width, a.Height)
	}
}

// BenchmarkProcess12MP cleans a 12-megapixel phone photo (4000×3000, EXIF
// orientation 6, GPS tags): decode, scale to 2560, turn, encode, thumbnail.
func BenchmarkProcess12MP(b *testing.B) {
	const w, h = 4000, 3000
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(3, 4))
	for y := range h {
		for x := range w {
			// Gradients with noise: compresses like a photo, not like a
			// flat test card.
			n := uint8(rng.IntN(24))
			img.SetRGBA(x, y, color.RGBA{uint8(x/16) + n, uint8(y/12) + n, uint8((x+y)/28) + n, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	in := withExif(buf.Bytes(), cameraExif(binary.LittleEndian, 6))
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		p, err := Process(bytes.NewReader(in), DefaultLimits())
		if err != nil {
			b.Fatal(err)
		}
		if p.Width != 1920 || p.Height != 2560 {
			b.Fatalf("size %d×%d", p.Width, p.Height)
		}
	}
}
