package ui

import (
	"fmt"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"
	"github.com/gdamore/tcell/v2"
)

// qrQuiet is the quiet zone in modules around the code: scanners need it,
// and the console around it is black, so it must be drawn white.
const qrQuiet = 4

// qrStyle is every QR cell's colours. Explicit black on white: the console
// is light on black, and default colours would invert the code.
var qrStyle = tcell.StyleDefault.Foreground(tcell.ColorBlack).Background(tcell.ColorSilver)

// qrMatrix is a QR code with its quiet zone, true = dark module.
type qrMatrix struct {
	size  int // modules per side, quiet zone included
	dark  [][]bool
	level string
}

// cols and rows are the cells the code takes: one column per module, two
// modules per row (half blocks), which keeps the modules square on a
// console font twice as high as wide.
func (m *qrMatrix) cols() int { return m.size }
func (m *qrMatrix) rows() int { return (m.size + 1) / 2 }

func encodeQR(content string, level qr.ErrorCorrectionLevel) (*qrMatrix, error) {
	code, err := qr.Encode(content, level, qr.Auto)
	if err != nil {
		return nil, fmt.Errorf("ui: qr code: %w", err)
	}
	return toMatrix(code), nil
}

func toMatrix(code barcode.Barcode) *qrMatrix {
	b := code.Bounds()
	n := b.Dx()
	m := &qrMatrix{size: n + 2*qrQuiet}
	m.dark = make([][]bool, m.size)
	for y := range m.dark {
		m.dark[y] = make([]bool, m.size)
	}
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			r, _, _, _ := code.At(b.Min.X+x, b.Min.Y+y).RGBA()
			m.dark[y+qrQuiet][x+qrQuiet] = r < 0x8000
		}
	}
	return m
}

// draw puts the code with its top-left corner at x, y.
func (m *qrMatrix) draw(c *canvas, x, y int) {
	for row := 0; row < m.rows(); row++ {
		for col := 0; col < m.size; col++ {
			top := m.dark[2*row][col]
			bottom := 2*row+1 < m.size && m.dark[2*row+1][col]
			r := ' '
			switch {
			case top && bottom:
				r = '█'
			case top:
				r = '▀'
			case bottom:
				r = '▄'
			}
			c.set(x+col, y+row, r, qrStyle)
		}
	}
}

// receiptCache holds the signed code and its QR renderings for the receipt
// on screen, so a redraw does not sign and encode again.
type receiptCache struct {
	ref    string
	amount int64
	code   string
	qrs    []*qrMatrix // best first: M, then L
}

// fitQR returns the most robust rendering that fits w×h cells, or nil.
func (rc *receiptCache) fitQR(w, h int) *qrMatrix {
	for _, m := range rc.qrs {
		if m.cols() <= w && m.rows() <= h {
			return m
		}
	}
	return nil
}
