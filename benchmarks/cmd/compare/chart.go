package main

import (
	"fmt"
	"image/color"
	"math"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/modelreg/registry/internal/benchworld"
)

var storeColors = map[string]color.Color{
	"registry":       color.RGBA{R: 214, G: 39, B: 40, A: 255},
	"sqlite-mattn":   color.RGBA{R: 31, G: 119, B: 180, A: 255},
	"sqlite-modernc": color.RGBA{R: 44, G: 160, B: 44, A: 255},
	"map":            color.RGBA{R: 127, G: 127, B: 127, A: 255},
}

// sizeTicks labels the world sizes on a log axis.
type sizeTicks []int

func (t sizeTicks) Ticks(min, max float64) []plot.Tick {
	var out []plot.Tick
	for _, n := range t {
		out = append(out, plot.Tick{Value: float64(n), Label: benchworld.SizeLabel(n)})
	}
	return out
}

// timeTicks labels latencies on a log axis in ns, µs, ms, s.
type timeTicks struct{}

func (timeTicks) Ticks(min, max float64) []plot.Tick {
	var out []plot.Tick
	for e := math.Floor(math.Log10(min)); e <= math.Ceil(math.Log10(max)); e++ {
		v := math.Pow(10, e)
		out = append(out, plot.Tick{Value: v, Label: fmtNs(v)})
		for k := 2.0; k < 10; k++ {
			t := plot.Tick{Value: k * v}
			if k == 3 {
				t.Label = fmtNs(k * v)
			}
			out = append(out, t)
		}
	}
	return out
}

// Chart draws one panel per operation, latency (ns/op, log scale) against
// world size (log scale), a line per store, and a last panel with the
// memory per artifact.
func (r *Report) Chart(path string) error {
	panels := len(r.Ops) + 1
	const cols = 4
	rows := (panels + cols - 1) / cols
	plots := make([][]*plot.Plot, rows)
	for i := range plots {
		plots[i] = make([]*plot.Plot, cols)
	}
	for i, op := range r.Ops {
		p := plot.New()
		p.Title.Text = op.Name
		p.Title.TextStyle.Font.Size = vg.Points(12)
		p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
		p.X.Tick.Marker, p.Y.Tick.Marker = sizeTicks(r.Sizes), timeTicks{}
		p.Y.Label.Text = "time per op"
		p.X.Label.Text = "artifacts in the registry"
		p.Add(plotter.NewGrid())
		for _, s := range r.Stores {
			var pts plotter.XYs
			for _, n := range r.Sizes {
				if x, ok := r.result(op.Name, s, n); ok && x.Ns() > 0 {
					pts = append(pts, plotter.XY{X: float64(n), Y: x.Ns()})
				}
			}
			if len(pts) == 0 {
				continue
			}
			if err := addLine(p, pts, s, i == 0); err != nil {
				return err
			}
		}
		padX(p, r.Sizes)
		// Room above the lines for the legend, and a little below.
		p.Y.Min /= 1.5
		p.Y.Max *= 4
		plots[i/cols][i%cols] = p
	}
	// Memory panel.
	p := plot.New()
	p.Title.Text = "Memory per artifact (Go heap + SQLite pages)"
	p.Title.TextStyle.Font.Size = vg.Points(11)
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = sizeTicks(r.Sizes)
	p.Y.Label.Text = "bytes per artifact"
	p.X.Label.Text = "artifacts in the registry"
	p.Add(plotter.NewGrid())
	for _, s := range r.Stores {
		var pts plotter.XYs
		for _, m := range r.Memory {
			if m.Store == s {
				pts = append(pts, plotter.XY{X: float64(m.Size), Y: m.HeapPerArtifact + m.OutsidePerArtifact})
			}
		}
		if len(pts) > 0 {
			if err := addLine(p, pts, s, true); err != nil {
				return err
			}
		}
	}
	p.Y.Min = 0
	p.Y.Max *= 1.4
	padX(p, r.Sizes)
	plots[(panels-1)/cols][(panels-1)%cols] = p

	const w, h = 5.2 * vg.Inch, 3.6 * vg.Inch
	img := vgimg.New(w*cols, h*vg.Length(rows))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align(plots, tiles, dc)
	for i := range plots {
		for j := range plots[i] {
			if plots[i][j] != nil {
				plots[i][j].Draw(canvases[i][j])
			}
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}

func addLine(p *plot.Plot, pts plotter.XYs, store string, legend bool) error {
	l, s, err := plotter.NewLinePoints(pts)
	if err != nil {
		return err
	}
	c := storeColors[store]
	l.Color, l.Width = c, vg.Points(1.5)
	s.Color, s.Shape = c, draw.CircleGlyph{}
	p.Add(l, s)
	if legend {
		p.Legend.Add(store, l, s)
		p.Legend.Top, p.Legend.Left = true, true
		p.Legend.TextStyle.Font.Size = vg.Points(9)
	}
	return nil
}

// padX widens the x range a little around the sizes so end points show.
func padX(p *plot.Plot, sizes []int) {
	p.X.Min = float64(sizes[0]) / 1.5
	p.X.Max = float64(sizes[len(sizes)-1]) * 1.5
}
