package journal

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// countingFS counts fsyncs on the real disk.
type countingFS struct {
	FS
	syncs atomic.Int64
}

type countingFile struct {
	File
	fs *countingFS
}

func (c *countingFS) OpenAppend(name string) (File, error) {
	f, err := c.FS.OpenAppend(name)
	if err != nil {
		return nil, err
	}
	return countingFile{f, c}, nil
}

func (f countingFile) Sync() error { f.fs.syncs.Add(1); return f.File.Sync() }

// processCPU is the user+system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportLatencies(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	if len(lat) == 0 {
		return
	}
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkAppend: one writer, one credit per Append, on the real disk.
func BenchmarkAppend(b *testing.B) {
	j, err := Open(Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	if _, err := j.Append(rOpen("a", 1)); err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, err := j.Append(rCredit("a", "coins", "1", 10, i%255+1)); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	reportLatencies(b, lat)
}

// BenchmarkAppend8Writers: 8 concurrent writers share fsyncs (group commit).
func BenchmarkAppend8Writers(b *testing.B) {
	cfs := &countingFS{FS: OSFS()}
	j, err := Open(Options{FS: cfs, Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	const writers = 8
	for w := range writers {
		if _, err := j.Append(rOpen(fmt.Sprint(w), 1)); err != nil {
			b.Fatal(err)
		}
	}
	cfs.syncs.Store(0)
	var mu sync.Mutex
	lat := make([]time.Duration, 0, b.N)
	var wg sync.WaitGroup
	b.ResetTimer()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := make([]time.Duration, 0, b.N/writers+1)
			for i := w; i < b.N; i += writers {
				start := time.Now()
				if _, err := j.Append(rCredit(fmt.Sprint(w), "coins", "1", 10, 0)); err != nil {
					b.Error(err)
					return
				}
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	b.StopTimer()
	reportLatencies(b, lat)
	if s := cfs.syncs.Load(); s > 0 {
		b.ReportMetric(float64(b.N)/float64(s), "appends/fsync")
	}
}

// BenchmarkReplay10000Sessions: Open of a journal holding 10,000 booked
// sessions (50,000 records, no compaction). Goal: <= 200 ms.
func BenchmarkReplay10000Sessions(b *testing.B) {
	dir := b.TempDir()
	var data []byte
	seq := uint64(0)
	for i := range 10000 {
		id := fmt.Sprintf("s%05d", i)
		for _, r := range []Record{rOpen(id, 1), rCredit(id, "coins", "10", 100, i%255+1), rCredit(id, "bills", "1", 500, 0),
			rFinish(id, 600), rPayment(id, "p"+id), rCommitted(id, "p"+id)} {
			seq++
			r.Seq = seq
			line, err := EncodeLine(r)
			if err != nil {
				b.Fatal(err)
			}
			data = append(data, line...)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, FileName), data, 0o600); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var total, cpu time.Duration
	for i := 0; i < b.N; i++ {
		start, cpu0 := time.Now(), processCPU()
		j, err := Open(Options{Dir: dir, CompactAfter: -1})
		if err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		cpu += processCPU() - cpu0
		if got := j.Ledger().Cash().Committed; got != 10000*600 {
			b.Fatalf("committed %d", got)
		}
		j.Close()
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/replay")
	// CPU time is steadier than wall time on a machine shared with others.
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/replay")
	b.ReportMetric(float64(len(data))/1e6, "MB")
}

// BenchmarkProbeHealthy: Probe of a working journal, as a watchdog calls it
// on every ping. Goal: no disk operation, well under a microsecond.
func BenchmarkProbeHealthy(b *testing.B) {
	j, err := Open(Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := j.Probe(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHeal5000Records: a failed write and the Probe that heals it, on
// a journal of 5,000 records (the default compaction threshold): the cut,
// reopen, fsyncs and the read-back check of the whole file.
func BenchmarkHeal5000Records(b *testing.B) {
	m := NewStrictMemFS()
	j, err := Open(Options{FS: m, Dir: "/s", CompactAfter: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	if _, err := j.Append(rOpen("a", 1)); err != nil {
		b.Fatal(err)
	}
	for i := range 4999 {
		if _, err := j.Append(rCredit("a", "coins", "1", 10, i%255+1)); err != nil {
			b.Fatal(err)
		}
	}
	full := fmt.Errorf("no space left on device")
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.SetWriteError(full)
		if _, err := j.Append(rCredit("a", "coins", "1", 10, 0)); err == nil {
			b.Fatal("append on a full disk worked")
		}
		m.SetWriteError(nil)
		start := time.Now()
		if err := j.Probe(); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	reportLatencies(b, lat)
}
