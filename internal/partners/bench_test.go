package partners_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paklog/integration-hub/adapters/filedrop"
	"github.com/paklog/integration-hub/adapters/filedrop/filedroptest"
	"github.com/paklog/integration-hub/adapters/sftp"
	"github.com/paklog/integration-hub/internal/intake"
	"github.com/paklog/integration-hub/internal/store"
	"github.com/paklog/integration-hub/internal/store/storetest"
	"github.com/paklog/integration-hub/router"
)

// pollBench is a poller on a real OpenSSH server committing into an SQLite store
// (synchronous=full, as the hub's default) through the intake.
type pollBench struct {
	dir    string
	arch   string
	poller *filedrop.Poller
	st     *store.Store
}

func newPollBench(b *testing.B, maxFile int64) *pollBench {
	s := filedroptest.StartSSHD(b)
	root := b.TempDir()
	pb := &pollBench{dir: filepath.Join(root, "out"), arch: filepath.Join(root, "archive")}
	for _, d := range []string{pb.dir, filepath.Join(root, "archive")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			b.Fatal(err)
		}
	}
	cfg := storetest.SQLiteConfig(b)
	cfg.Synchronous = "full"
	pb.st = storetest.Open(b, cfg)
	if err := pb.st.InitTopics(b.Context(), router.InboundTopic("edi")); err != nil {
		b.Fatal(err)
	}
	in := intake.New(pb.st, router.Topics{}, intake.Config{SpoolDir: filepath.Join(root, "spool")}, nil)
	b.Cleanup(in.Close)
	p, err := sftp.New(sftp.Config{Host: s.Host, Port: s.Port, User: s.User, PrivateKey: s.Client.PEM, HostKey: s.HostKey.Fingerprint(),
		Config: filedrop.Config{Partner: "bench", Dir: pb.dir, Settle: time.Nanosecond, ArchiveDir: filepath.Join(root, "archive"),
			MaxFileSize: maxFile}}, filedrop.IntakeSink{Intake: in}, nil)
	if err != nil {
		b.Fatal(err)
	}
	pb.poller = p
	return pb
}

// take polls until every file in the directory has been taken.
func (pb *pollBench) take(b *testing.B, want int) {
	taken := 0
	for taken < want {
		rep := filedroptest.Poll(b, pb.poller)
		if len(rep.Errors) > 0 {
			b.Fatalf("%d poll errors, the first: %v", len(rep.Errors), rep.Errors[0])
		}
		taken += len(rep.Taken)
		if len(rep.Taken) == 0 && len(rep.Incomplete) == 0 {
			b.Fatalf("nothing left to take, %d of %d taken", taken, want)
		}
	}
}

// peakRSS resets the kernel's high-water mark of this process's resident memory and
// returns a function reading it in MiB (Linux /proc).
func peakRSS(b *testing.B) func() float64 {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Logf("cannot reset the peak RSS (%v); reporting the peak since start", err)
	}
	return func() float64 {
		status, err := os.ReadFile("/proc/self/status")
		if err != nil {
			return 0
		}
		for line := range strings.SplitSeq(string(status), "\n") {
			if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
				return kb / 1024
			}
		}
		return 0
	}
}

// BenchmarkPollSmallFiles: 1,000 files of about 2 KB each, from OpenSSH through the
// poller into the store (each committed with its dedupe key, then archived).
func BenchmarkPollSmallFiles(b *testing.B) {
	const files = 1000
	pb := newPollBench(b, 0)
	body := bytes.Repeat([]byte("PO1*1*2*EA*24.50**VP*TENT-2P~\n"), 64)
	var total int64
	peak := peakRSS(b)
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		for f := range files {
			data := fmt.Appendf(append([]byte(nil), body...), "REF*ZZ*%d-%d~\n", i, f)
			if err := os.WriteFile(filepath.Join(pb.dir, fmt.Sprintf("f%04d.edi", f)), data, 0o644); err != nil {
				b.Fatal(err)
			}
			total += int64(len(data))
		}
		b.StartTimer()
		pb.take(b, files)
	}
	b.StopTimer()
	secs := b.Elapsed().Seconds()
	b.ReportMetric(float64(files*b.N)/secs, "files/s")
	b.ReportMetric(float64(total)/(1<<20)/secs, "MiB/s")
	b.ReportMetric(peak(), "peak-RSS-MiB")
}

// BenchmarkPollLargeFile: one 500 MiB file, streamed from OpenSSH into the intake's
// spool and committed; the peak resident memory shows it is never held whole.
func BenchmarkPollLargeFile(b *testing.B) {
	const size = 500 << 20
	pb := newPollBench(b, size+1)
	src := filepath.Join(b.TempDir(), "big.edi")
	f, err := os.Create(src)
	if err != nil {
		b.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	for range size / len(chunk) {
		rand.Read(chunk)
		if _, err := f.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
	f.Close()
	peak := peakRSS(b)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		// The archived copy from the last round is the same inode: a rename onto it
		// would do nothing (rename(2) between links of one file).
		os.Remove(filepath.Join(pb.arch, "big.edi"))
		if err := os.Link(src, filepath.Join(pb.dir, "big.edi")); err != nil {
			b.Fatal(err)
		}
		rand.Read(chunk) // a new first MiB: a new file, not a duplicate
		g, err := os.OpenFile(filepath.Join(pb.dir, "big.edi"), os.O_WRONLY, 0)
		if err != nil {
			b.Fatal(err)
		}
		g.WriteAt(chunk, 0)
		g.Close()
		b.StartTimer()
		pb.take(b, 1)
	}
	b.StopTimer()
	b.ReportMetric(float64(size)*float64(b.N)/(1<<20)/b.Elapsed().Seconds(), "MiB/s")
	b.ReportMetric(peak(), "peak-RSS-MiB")
}
