package reports

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// ErrHistogramLog marks an .hlog file that cannot be read: not an
// HdrHistogram log, a corrupt histogram, or one with no histograms.
var ErrHistogramLog = errors.New("reports: bad histogram log")

// HistogramLogs are the interval histograms of one or more .hlog files
// (HdrHistogram log format, as gale loadgen writes them beside
// results.json), merged by tag: one histogram per tag (publish,
// publish_delay, e2e) over every interval of every file, so runs on several
// machines combine into one distribution. Values are nanoseconds, as gale
// records them.
type HistogramLogs struct {
	Files []string
	// Tags lists the tags in the order first seen; a histogram without a
	// tag is "latency".
	Tags []string
	// Histograms holds the merged histogram of each tag.
	Histograms map[string]*hdr.Histogram
	// Intervals counts the interval histograms merged (after Skip).
	Intervals int
	// Skipped counts the interval histograms left out by the skip.
	Skipped int
	// Dropped counts values that did not fit the merged histograms' range
	// (1 ns to 1 h).
	Dropped int64
}

// The merged histograms' range, as gale loadgen records: 1 ns to 1 h, 3
// significant digits.
const (
	hlogLowest  = 1
	hlogHighest = int64(time.Hour)
	hlogDigits  = 3
)

// ReadHistogramLogs reads and merges .hlog files. Intervals that start
// within skip of their file's first interval are left out (a warmup:
// gale's logs include the warmup intervals). Errors name the file.
func ReadHistogramLogs(paths []string, skip time.Duration) (*HistogramLogs, error) {
	hl := &HistogramLogs{Histograms: map[string]*hdr.Histogram{}}
	for _, path := range paths {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("reports: %w", err)
		}
		err = hl.read(f, skip)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		hl.Files = append(hl.Files, path)
	}
	return hl, nil
}

// read merges one log's histograms into hl.
func (hl *HistogramLogs) read(r io.Reader, skip time.Duration) error {
	lr := hdr.NewHistogramLogReader(r)
	var first int64
	n := 0
	for {
		h, err := nextHistogram(lr)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrHistogramLog, err)
		}
		if h == nil {
			break
		}
		if n == 0 {
			first = h.StartTimeMs()
		}
		n++
		if time.Duration(h.StartTimeMs()-first)*time.Millisecond < skip {
			hl.Skipped++
			continue
		}
		tag := h.Tag()
		if tag == "" {
			tag = "latency"
		}
		m, ok := hl.Histograms[tag]
		if !ok {
			m = hdr.New(hlogLowest, hlogHighest, hlogDigits)
			hl.Histograms[tag] = m
			hl.Tags = append(hl.Tags, tag)
		}
		hl.Dropped += m.Merge(h)
		hl.Intervals++
	}
	if n == 0 {
		return fmt.Errorf("%w: no interval histograms in it", ErrHistogramLog)
	}
	return nil
}

// nextHistogram reads the next interval histogram, turning the decoder's
// panics on corrupt input into errors.
func nextHistogram(lr *hdr.HistogramLogReader) (h *hdr.Histogram, err error) {
	defer func() {
		if p := recover(); p != nil {
			h, err = nil, fmt.Errorf("corrupt histogram: %v", p)
		}
	}()
	return lr.NextIntervalHistogram()
}

// sortedTags returns the tags in the order publish, publish_delay, e2e,
// then any others as first seen.
func (hl *HistogramLogs) sortedTags() []string {
	rank := func(t string) int {
		if i := slices.Index([]string{"publish", "publish_delay", "e2e"}, t); i >= 0 {
			return i
		}
		return 3
	}
	tags := slices.Clone(hl.Tags)
	slices.SortStableFunc(tags, func(a, b string) int { return rank(a) - rank(b) })
	return tags
}
