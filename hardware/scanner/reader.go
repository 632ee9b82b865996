package scanner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// Reader reads codes, one per line, from a stream that blocks (standard
// input, a pipe): for development, and for scanners a test drives
// through a pipe. A goroutine reads the stream; Next waits for its lines.
type Reader struct {
	r     io.Reader
	now   func() time.Time
	lines chan Line
	err   error // set before lines is closed

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

var _ Scanner = (*Reader)(nil)

// NewReader starts reading r. If r is an io.Closer, Close closes it.
func NewReader(r io.Reader, maxLength int, now func() time.Time) *Reader {
	if now == nil {
		now = time.Now
	}
	rd := &Reader{r: r, now: now, lines: make(chan Line), stop: make(chan struct{}), done: make(chan struct{})}
	go rd.run(NewLineSplitter(maxLength))
	return rd
}

func (rd *Reader) run(split *LineSplitter) {
	defer close(rd.done)
	defer close(rd.lines)
	buf := make([]byte, 512)
	var ready []Line
	for {
		n, err := rd.r.Read(buf)
		ready = split.Feed(ready[:0], buf[:n])
		if err != nil {
			ready = split.Flush(ready) // a last code without a newline
		}
		for _, l := range ready {
			select {
			case rd.lines <- l:
			case <-rd.stop:
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				rd.err = fmt.Errorf("read scanner: %w", err)
			} else {
				rd.err = fmt.Errorf("scanner: input ended: %w", io.EOF)
			}
			return
		}
	}
}

// Next returns the next code, waiting until one arrives or ctx is done.
// When the stream ends it returns an error wrapping io.EOF.
func (rd *Reader) Next(ctx context.Context) (Scan, error) {
	select {
	case <-ctx.Done():
		return Scan{}, fmt.Errorf("wait for scan: %w", ctx.Err())
	case l, ok := <-rd.lines:
		if !ok {
			return Scan{}, rd.err
		}
		if l.Err != nil {
			return Scan{}, fmt.Errorf("scanner: %w", l.Err)
		}
		return Scan{Text: l.Text, At: rd.now()}, nil
	}
}

// Close stops reading. If the stream is an io.Closer it is closed and
// Close waits for the reading goroutine; standard input cannot be
// interrupted, so for it the goroutine ends at the next line or EOF.
func (rd *Reader) Close() error {
	var err error
	rd.closeOnce.Do(func() {
		close(rd.stop)
		if c, ok := rd.r.(io.Closer); ok {
			err = c.Close()
			t := time.NewTimer(time.Second) // a terminal's read may not end on Close
			defer t.Stop()
			select {
			case <-rd.done:
			case <-t.C:
			}
		}
	})
	return err
}
