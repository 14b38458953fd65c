package media

import (
	"image"
	"image/color"
	"math"

	"golang.org/x/image/draw"
)

// scaledSize returns the size of a w×h image shrunk to at most side pixels on
// its long side, keeping the aspect ratio; smaller images keep their size.
func scaledSize(w, h, side int) (int, int) {
	long, short := max(w, h), min(w, h)
	if long <= side {
		return w, h
	}
	s := max(1, int(math.Round(float64(short)*float64(side)/float64(long))))
	if w >= h {
		return side, s
	}
	return s, side
}

// fit shrinks img to at most side pixels on its long side and returns it
// unchanged if it is already small enough.
//
// It averages the source pixels each output pixel covers (a box filter with
// fractional coverage), streaming one source row at a time. That is the
// right filter for shrinking — every source pixel counts, so no aliasing —
// and it needs memory for the output only: x/image/draw's kernel scalers
// keep a float64 buffer of output width × source height (about 250 MB for a
// 12 MP photo).
func fit(img image.Image, side int) image.Image {
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	dw, dh := scaledSize(sw, sh, side)
	if dw == sw && dh == sh {
		return img
	}
	xs, ys := boxWeights(sw, dw), boxWeights(sh, dh)
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))

	src := image.NewRGBA(image.Rect(0, 0, sw, 1)) // the current source row
	row := make([]float64, 4*dw)                  // that row shrunk horizontally
	acc := make([]float64, 4*dw)                  // the output row being summed
	last := -1                                    // source row held in row
	for dy, yc := range ys {
		clear(acc)
		for k, wy := range yc.w {
			sy := yc.first + k
			if sy != last {
				// Consecutive output rows share at most their boundary
				// source row, so each source row is read once or twice.
				draw.Draw(src, src.Bounds(), img, image.Pt(b.Min.X, b.Min.Y+sy), draw.Src)
				shrinkRow(row, src.Pix, xs)
				last = sy
			}
			for i, v := range row {
				acc[i] += wy * v
			}
		}
		out := dst.Pix[dy*dst.Stride : dy*dst.Stride+4*dw]
		for i := 0; i < len(out); i += 4 {
			a := clamp8(acc[i+3])
			// Premultiplied: no channel may exceed alpha, which rounding
			// could otherwise allow.
			out[i] = min(clamp8(acc[i]), a)
			out[i+1] = min(clamp8(acc[i+1]), a)
			out[i+2] = min(clamp8(acc[i+2]), a)
			out[i+3] = a
		}
	}
	return dst
}

// span is the source pixels that make up one output pixel along an axis:
// first, and the weight of each from there; the weights add up to 1.
type span struct {
	first int
	w     []float64
}

// boxWeights returns, for each of dn output pixels, the share of each of the
// sn ≥ dn source pixels it covers.
func boxWeights(sn, dn int) []span {
	scale := float64(sn) / float64(dn)
	spans := make([]span, dn)
	for d := range spans {
		lo, hi := float64(d)*scale, float64(d+1)*scale
		first, end := int(lo), min(sn, int(math.Ceil(hi)))
		w := make([]float64, 0, end-first)
		for s := first; s < end; s++ {
			w = append(w, (min(hi, float64(s+1))-max(lo, float64(s)))/scale)
		}
		spans[d] = span{first, w}
	}
	return spans
}

// shrinkRow averages a row of RGBA pixels into len(xs) pixels.
func shrinkRow(dst []float64, pix []uint8, xs []span) {
	for dx, xc := range xs {
		var r, g, b, a float64
		p := pix[4*xc.first:]
		for k, w := range xc.w {
			q := p[4*k : 4*k+4 : 4*k+4]
			r += w * float64(q[0])
			g += w * float64(q[1])
			b += w * float64(q[2])
			a += w * float64(q[3])
		}
		dst[4*dx], dst[4*dx+1], dst[4*dx+2], dst[4*dx+3] = r, g, b, a
	}
}

func clamp8(v float64) uint8 {
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v + 0.5)
}

// toRGBA returns img as an *image.RGBA with its origin at (0, 0).
func toRGBA(img image.Image) *image.RGBA {
	if m, ok := img.(*image.RGBA); ok && m.Rect.Min == (image.Point{}) {
		return m
	}
	b := img.Bounds()
	m := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(m, m.Rect, img, b.Min, draw.Src)
	return m
}

// orient turns img upright according to an EXIF orientation, which says
// what must be done to the stored pixels for display: 1 nothing, 2 mirror
// left-right, 3 turn 180°, 4 mirror top-bottom, 5 transpose (mirror along
// the main diagonal), 6 turn 90° clockwise, 7 transverse (mirror along the
// other diagonal), 8 turn 90° anticlockwise. Other values leave img
// unchanged.
func orient(img image.Image, o int) image.Image {
	if o < 2 || o > 8 {
		return img
	}
	src := toRGBA(img)
	w, h := src.Rect.Dx(), src.Rect.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := range dh {
		for x := range dw {
			var sx, sy int
			switch o {
			case 2:
				sx, sy = w-1-x, y
			case 3:
				sx, sy = w-1-x, h-1-y
			case 4:
				sx, sy = x, h-1-y
			case 5:
				sx, sy = y, x
			case 6:
				sx, sy = y, h-1-x
			case 7:
				sx, sy = w-1-y, h-1-x
			case 8:
				sx, sy = w-1-y, x
			}
			s := sy*src.Stride + 4*sx
			d := y*dst.Stride + 4*x
			copy(dst.Pix[d:d+4], src.Pix[s:s+4])
		}
	}
	return dst
}

// flatten lays an image with transparent parts on white, for JPEG, which has
// no alpha: the encoder would otherwise show transparency as black.
func flatten(img image.Image) image.Image {
	if o, ok := img.(interface{ Opaque() bool }); ok && o.Opaque() {
		return img
	}
	b := img.Bounds()
	m := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(m, m.Rect, image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.Draw(m, m.Rect, img, b.Min, draw.Over)
	return m
}

// thumbnail shrinks img to at most side pixels on its long side with
// Catmull-Rom, on white. img is at most MaxSide pixels on its long side
// here, which bounds the scaler's working buffer (about 26 MB).
func thumbnail(img image.Image, side int) image.Image {
	b := img.Bounds()
	w, h := scaledSize(b.Dx(), b.Dy(), side)
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(m, m.Rect, image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.CatmullRom.Scale(m, m.Rect, img, b, draw.Over, nil)
	return m
}
