// Package media checks and cleans the photos attached to cases.
//
// A photo from a resident's or grid worker's phone carries metadata that the
// platform must not keep or pass on: above all the EXIF GPS position of where
// it was taken (a location track is sensitive personal data under PIPL), but
// also camera serial numbers, owner names and embedded previews. Process
// therefore never stores the uploaded file: it decodes the pixels, turns them
// upright, scales them down and encodes a fresh file, so that nothing of the
// original container survives. It also makes a small JPEG thumbnail for
// lists.
//
// Uploads are untrusted, so the type is taken from the content (never the
// file name or the declared type), the input is read only up to a limit, and
// the dimensions declared in the header are checked before any pixel is
// decoded, so that a tiny file declaring a huge image (a decompression bomb)
// costs nothing; a JPEG made of very many scans, which would cost CPU time
// instead of memory, is refused as well.
package media

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"

	"golang.org/x/image/webp"

	"github.com/gridhall/gridhall/internal/errs"
)

// The content types Process produces.
const (
	TypeJPEG = "image/jpeg"
	TypePNG  = "image/png"
)

// The message keys of the "photo" field in Process's errors.
const (
	ErrTooLarge   = "media.error.too_large"  // the file is larger than Limits.MaxBytes
	ErrType       = "media.error.type"       // not a JPEG, PNG, GIF or WebP file
	ErrCorrupt    = "media.error.corrupt"    // looks like an image but cannot be decoded
	ErrDimensions = "media.error.dimensions" // more pixels than Limits.MaxPixels
)

// Sizes of the output, in pixels on the long side, and JPEG qualities.
const (
	MaxSide   = 2560 // larger photos are scaled down: enough to read a sign or a meter, a fraction of a phone's 12–50 MP
	ThumbSide = 320  // thumbnails for case lists and timelines

	photoQuality = 85
	thumbQuality = 80
)

// Limits bound what Process accepts.
type Limits struct {
	MaxBytes  int64 // size of the uploaded file
	MaxPixels int64 // width × height declared in the image header
}

// DefaultLimits are 10 MiB and 40 megapixels: above any phone photo of the
// last years at normal settings, and a bound on the memory one decode takes
// (a 40 MP JPEG needs roughly 60–250 MB while it is decoded).
func DefaultLimits() Limits {
	return Limits{MaxBytes: 10 << 20, MaxPixels: 40_000_000}
}

// Photo is a cleaned photo and its thumbnail, ready to store.
type Photo struct {
	ContentType   string // TypeJPEG or TypePNG
	Data          []byte // the re-encoded photo, without any metadata
	Thumb         []byte // a JPEG at most ThumbSide pixels on the long side
	ThumbType     string // TypeJPEG
	Width, Height int    // of Data, upright
	SHA256        string // lower-case hex digest of Data, to spot duplicates and check storage
}

// format is an image format recognised by its magic bytes.
type format int

const (
	formatUnknown format = iota
	formatJPEG
	formatPNG
	formatGIF
	formatWebP
)

// sniff recognises a format by the first bytes of the file.
func sniff(b []byte) format {
	switch {
	case len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF:
		return formatJPEG
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return formatPNG
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		return formatGIF
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return formatWebP
	}
	return formatUnknown
}

// codec returns the decoding functions of a format.
func (f format) codec() (decodeConfig func(io.Reader) (image.Config, error), decode func(io.Reader) (image.Image, error)) {
	switch f {
	case formatJPEG:
		return jpeg.DecodeConfig, jpeg.Decode
	case formatPNG:
		return png.DecodeConfig, png.Decode
	case formatGIF:
		// gif.Decode returns the first frame only; its bounds lie within
		// the logical screen DecodeConfig reports (the decoder checks).
		return gif.DecodeConfig, gif.Decode
	case formatWebP:
		// The webp decoder checks that the frame matches the canvas an
		// extended header declares, so the config bounds the decode.
		return webp.DecodeConfig, webp.Decode
	}
	return nil, nil
}

const op = "media.Process"

// errTooManyScans is the logged cause of refusing a JPEG with more than
// maxScans scans.
var errTooManyScans = errors.New("media: too many JPEG scans")

// invalid is the error of a bad upload; cause is kept for logs.
func invalid(key string, cause error) error {
	e := errs.Fields(op, map[string]string{"photo": key})
	e.Err = cause
	return e
}

// Process reads an uploaded photo and returns it cleaned: decoded, turned
// upright according to its EXIF orientation (JPEG), scaled down to MaxSide
// pixels on the long side if larger, and re-encoded without any metadata —
// as JPEG (quality 85) for JPEG and WebP input, as PNG for PNG and GIF input
// (GIF: the first frame). It also makes the thumbnail.
//
// A zero field of lim means its DefaultLimits value. Process reads at most
// lim.MaxBytes+1 bytes of r. A bad upload is an errs.Invalid error whose
// field "photo" holds ErrTooLarge, ErrType, ErrCorrupt or ErrDimensions; if r
// fails with an *http.MaxBytesError the result is ErrTooLarge too, and other
// read errors are returned as errs.Internal.
func Process(r io.Reader, lim Limits) (Photo, error) {
	def := DefaultLimits()
	if lim.MaxBytes <= 0 {
		lim.MaxBytes = def.MaxBytes
	}
	if lim.MaxPixels <= 0 {
		lim.MaxPixels = def.MaxPixels
	}

	data, err := io.ReadAll(io.LimitReader(r, lim.MaxBytes+1))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return Photo{}, invalid(ErrTooLarge, err)
		}
		return Photo{}, errs.Wrap(op, err)
	}
	if int64(len(data)) > lim.MaxBytes {
		return Photo{}, invalid(ErrTooLarge, nil)
	}

	f := sniff(data)
	if f == formatUnknown {
		return Photo{}, invalid(ErrType, nil)
	}
	decodeConfig, decode := f.codec()

	// The header first: the pixel buffers a decoder allocates follow the
	// declared dimensions, not the file size.
	cfg, err := decodeConfig(bytes.NewReader(data))
	if err != nil {
		return Photo{}, invalid(ErrCorrupt, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return Photo{}, invalid(ErrCorrupt, nil)
	}
	if int64(cfg.Width) > lim.MaxPixels/int64(cfg.Height) {
		return Photo{}, invalid(ErrDimensions, nil)
	}

	if f == formatJPEG && jpegScans(data) > maxScans {
		return Photo{}, invalid(ErrCorrupt, errTooManyScans)
	}

	img, err := decode(bytes.NewReader(data))
	if err != nil {
		return Photo{}, invalid(ErrCorrupt, err)
	}
	if b := img.Bounds(); b.Empty() || int64(b.Dx()) > lim.MaxPixels/int64(b.Dy()) {
		return Photo{}, invalid(ErrCorrupt, nil)
	}

	orientation := 1
	if f == formatJPEG {
		orientation = exifOrientation(data)
	}
	img = fit(img, MaxSide)
	img = orient(img, orientation)

	var out bytes.Buffer
	p := Photo{ThumbType: TypeJPEG}
	switch f {
	case formatPNG, formatGIF:
		// PNG keeps what PNG and GIF input is usually made of —
		// screenshots, drawings, transparency — without JPEG's blur.
		p.ContentType = TypePNG
		err = png.Encode(&out, img)
	default:
		p.ContentType = TypeJPEG
		err = jpeg.Encode(&out, flatten(img), &jpeg.Options{Quality: photoQuality})
	}
	if err != nil {
		return Photo{}, errs.Wrap(op, err)
	}
	p.Data = out.Bytes()
	b := img.Bounds()
	p.Width, p.Height = b.Dx(), b.Dy()
	sum := sha256.Sum256(p.Data)
	p.SHA256 = hex.EncodeToString(sum[:])

	var thumb bytes.Buffer
	if err := jpeg.Encode(&thumb, thumbnail(img, ThumbSide), &jpeg.Options{Quality: thumbQuality}); err != nil {
		return Photo{}, errs.Wrap(op, err)
	}
	p.Thumb = thumb.Bytes()
	return p, nil
}
