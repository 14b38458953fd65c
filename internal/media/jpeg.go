package media

import "encoding/binary"

// walkJPEG calls visit with each marker segment of a JPEG file, in order,
// until visit returns false or the file ends. seg is the segment's body,
// without marker and length. Entropy-coded data after a start of scan is
// skipped; standalone markers (RSTn, TEM) are not visited. Every length is
// checked against the data: the input is untrusted.
func walkJPEG(jpg []byte, visit func(marker byte, seg []byte) bool) {
	if len(jpg) < 2 || jpg[0] != 0xFF || jpg[1] != 0xD8 {
		return
	}
	i := 2
	for {
		// A marker is 0xFF, any number of 0xFF fill bytes, then its code.
		if i >= len(jpg) || jpg[i] != 0xFF {
			return
		}
		for i < len(jpg) && jpg[i] == 0xFF {
			i++
		}
		if i >= len(jpg) {
			return
		}
		marker := jpg[i]
		i++
		switch {
		case marker == 0xD9: // end of image
			return
		case marker == 0x01 || marker >= 0xD0 && marker <= 0xD7: // TEM, RSTn: no length
			continue
		}
		if i+2 > len(jpg) {
			return
		}
		n := int(binary.BigEndian.Uint16(jpg[i:])) // includes its own two bytes
		if n < 2 || i+n > len(jpg) {
			return
		}
		if !visit(marker, jpg[i+2:i+n]) {
			return
		}
		i += n
		if marker == 0xDA {
			// Scan data runs to the next marker: 0xFF followed by
			// anything but a stuffed zero or a restart marker.
			for ; i+1 < len(jpg); i++ {
				if c := jpg[i+1]; jpg[i] == 0xFF && c != 0 && (c < 0xD0 || c > 0xD7) {
					break
				}
			}
		}
	}
}

// exifOrientation returns the EXIF Orientation (1–8) of a JPEG file, or 1
// (upright) when the file has none or it cannot be read.
//
// Phones store pixels as the sensor saw them and record in this tag how to
// turn them for display. Process drops all metadata, so it must apply the
// turn itself or the photo would show on its side.
//
// It reads the first APP1 segment before the start of scan that starts with
// "Exif\0\0" (XMP also lives in APP1 and is skipped).
func exifOrientation(jpg []byte) int {
	o := 1
	walkJPEG(jpg, func(marker byte, seg []byte) bool {
		switch {
		case marker == 0xDA: // metadata comes before the image data
			return false
		case marker == 0xE1 && len(seg) >= 6 && string(seg[:6]) == "Exif\x00\x00":
			if v, ok := tiffOrientation(seg[6:]); ok {
				o = v
			}
			return false
		}
		return true
	})
	return o
}

// maxScans bounds the scans of a JPEG file. Encoders write 1 (baseline) to
// about 10–20 (progressive); each scan of a progressive file may cost the
// decoder a pass over every block of the image while taking only a few
// bytes, so a file of a few megabytes made of tiny scans could keep a core
// busy for hours though its dimensions are allowed.
const maxScans = 100

// jpegScans counts the start-of-scan segments of a JPEG file.
func jpegScans(jpg []byte) int {
	n := 0
	walkJPEG(jpg, func(marker byte, _ []byte) bool {
		if marker == 0xDA {
			n++
		}
		return true
	})
	return n
}

// tagOrientation is the TIFF tag of the orientation in IFD0.
const tagOrientation = 0x0112

// tiffOrientation reads the Orientation tag of IFD0 of a TIFF structure (the
// body of an EXIF segment), in either byte order. ok is false when the
// structure is malformed or has no valid Orientation.
func tiffOrientation(t []byte) (orientation int, ok bool) {
	if len(t) < 8 {
		return 0, false
	}
	var bo binary.ByteOrder
	switch string(t[:4]) {
	case "II*\x00":
		bo = binary.LittleEndian
	case "MM\x00*":
		bo = binary.BigEndian
	default:
		return 0, false
	}
	// uint64 arithmetic: offsets are 32-bit and must not wrap an int.
	ifd := uint64(bo.Uint32(t[4:]))
	size := uint64(len(t))
	if ifd < 8 || ifd+2 > size {
		return 0, false
	}
	count := uint64(bo.Uint16(t[ifd:]))
	for k := range count {
		e := ifd + 2 + 12*k
		if e+12 > size {
			return 0, false
		}
		if bo.Uint16(t[e:]) != tagOrientation {
			continue
		}
		typ, n := bo.Uint16(t[e+2:]), bo.Uint32(t[e+4:])
		if n != 1 {
			return 0, false
		}
		// The value fits in the entry's 4-byte value field, left-justified.
		var v uint32
		switch typ {
		case 3: // SHORT, as the standard says
			v = uint32(bo.Uint16(t[e+8:]))
		case 4: // LONG, written by a few tools
			v = bo.Uint32(t[e+8:])
		default:
			return 0, false
		}
		if v < 1 || v > 8 {
			return 0, false
		}
		return int(v), true
	}
	return 0, false
}
