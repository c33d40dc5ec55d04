package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"go.uber.org/goleak"
	"golang.org/x/sys/unix"

	"github.com/sgdpipe/sgdpipe/io/safetensors"
	"github.com/sgdpipe/sgdpipe/stages"
)

// TestMain checks for leaked goroutines (in-process runs of the CLI start training graphs) and
// removes the pipe binary the fault tests build.
func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

// pipeBinary builds the real pipe binary once per test run and returns its path.
func pipeBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "pipe-fault-"); binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "pipe")
		if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// Limits of a run on hostile input.
const (
	runTimeout = 10 * time.Second
	memLimit   = 1 << 30 // peak resident set size, bytes
)

// outcome is how one watched run of the binary ended.
type outcome struct {
	code           int
	stdout, stderr string
	maxRSS         int64 // bytes
	elapsed        time.Duration
	timedOut       bool
	overMemory     bool // the watchdog killed it above memLimit
}

// runWatched runs the binary with a watchdog: killed after runTimeout, or as soon as its resident set
// passes memLimit (read from /proc every 2 ms, so the machine is never at risk); the peak RSS comes
// from the kernel's rusage.
func runWatched(t *testing.T, bin string, args ...string) outcome {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var over atomic.Bool
	go func() {
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if rss := procRSS(cmd.Process.Pid); rss > memLimit {
					over.Store(true)
					cmd.Process.Kill()
					return
				}
			}
		}
	}()
	timer := time.AfterFunc(runTimeout, func() { cmd.Process.Kill() })
	err := cmd.Wait()
	timedOut := !timer.Stop()
	close(done)
	o := outcome{stdout: stdout.String(), stderr: stderr.String(), elapsed: time.Since(start), timedOut: timedOut, overMemory: over.Load()}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	o.code = cmd.ProcessState.ExitCode()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		o.maxRSS = ru.Maxrss << 10 // KiB on Linux
	}
	return o
}

// procRSS returns the resident set size of pid in bytes, or 0 if it cannot be read.
func procRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/statm", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// checkClean fails the test if a run broke the rules every input must obey: a panic or stack on
// stderr, a hang, memory over the limit, an exit code other than 0 or 1, or an error that is not
// one line naming path.
func checkClean(t *testing.T, what, path string, o outcome) {
	t.Helper()
	switch {
	case o.timedOut:
		t.Errorf("%s: still running after %v", what, runTimeout)
	case o.overMemory || o.maxRSS > memLimit:
		t.Errorf("%s: peak RSS %d MiB, limit %d MiB", what, o.maxRSS>>20, memLimit>>20)
	case strings.Contains(o.stderr, "panic") || strings.Contains(o.stderr, "goroutine "):
		t.Errorf("%s: panic or stack on stderr:\n%s", what, o.stderr)
	case o.code != exitOK && o.code != exitRuntime:
		t.Errorf("%s: exit code %d, want 0 or 1\n%s", what, o.code, o.stderr)
	case o.code == exitRuntime:
		msg := strings.TrimRight(o.stderr, "\n")
		if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "pipe: ") || !strings.Contains(msg, path) {
			t.Errorf("%s: want one error line naming %s, got:\n%s", what, path, o.stderr)
		}
	}
}

// hostileInput is one file fed to pipe train and pipe inspect.
type hostileInput struct {
	path   string
	expect string // "train", "error" or "either" (testdata/corrupt/expect.tsv)
	what   string
}

// corruptInputs lists testdata/corrupt (as expect.tsv describes it) and the fuzzers' findings of
// io/source, decoded from the fuzz corpus format into files with the extension of their fuzzer.
func corruptInputs(t *testing.T) []hostileInput {
	t.Helper()
	dir := filepath.Join("..", "..", "testdata", "corrupt")
	f, err := os.Open(filepath.Join(dir, "expect.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var in []hostileInput
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		cols := strings.SplitN(line, "\t", 3)
		if len(cols) != 3 {
			t.Fatalf("expect.tsv: bad line %q", line)
		}
		in = append(in, hostileInput{path: filepath.Join(dir, cols[0]), expect: cols[1], what: cols[2]})
	}
	if len(in) < 60 {
		t.Fatalf("expect.tsv lists %d files", len(in))
	}
	ext := map[string]string{"FuzzParquet": ".parquet", "FuzzIPCFile": ".arrow", "FuzzIPCStream": ".arrows", "FuzzCSV": ".csv"}
	findings, _ := filepath.Glob(filepath.Join("..", "..", "io", "source", "testdata", "fuzz", "*", "*"))
	out := t.TempDir()
	for _, p := range findings {
		fuzzer := filepath.Base(filepath.Dir(p))
		e, ok := ext[fuzzer]
		if !ok {
			continue
		}
		data, err := decodeFuzzInput(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		dst := filepath.Join(out, fuzzer+"-"+filepath.Base(p)+e)
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
		in = append(in, hostileInput{path: dst, expect: "either", what: "fuzzer finding " + fuzzer + "/" + filepath.Base(p)})
	}
	return in
}

// decodeFuzzInput reads a corpus file of `go test -fuzz` holding one []byte value.
func decodeFuzzInput(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := strings.SplitN(strings.TrimSpace(string(b)), "\n", 2)
	if len(lines) != 2 || lines[0] != "go test fuzz v1" {
		return nil, errors.New("not a go fuzz corpus file")
	}
	lit, ok := strings.CutPrefix(strings.TrimSpace(lines[1]), "[]byte(")
	if !ok || !strings.HasSuffix(lit, ")") {
		return nil, errors.New("not a []byte corpus entry")
	}
	s, err := strconv.Unquote(strings.TrimSuffix(lit, ")"))
	if err != nil {
		return nil, err
	}
	return []byte(s), nil
}

// TestCorruptInputs feeds every file of testdata/corrupt and every fuzzer finding to the real binary,
// as `pipe train --data F --target label` and `pipe inspect F`: each run ends within 10 s, under 1 GiB,
// without a panic, with exit 0 or one error line naming the file and exit 1, and train does what
// expect.tsv says.
func TestCorruptInputs(t *testing.T) {
	bin := pipeBinary(t)
	inputs := corruptInputs(t)
	var mu sync.Mutex
	var peak int64
	var slowest time.Duration
	counts := map[string]int{}
	t.Cleanup(func() {
		t.Logf("%d inputs: %v; peak RSS %d MiB; slowest run %v", len(inputs), counts, peak>>20, slowest.Round(time.Millisecond))
	})
	for _, in := range inputs {
		t.Run(filepath.Base(in.path), func(t *testing.T) {
			t.Parallel()
			model := filepath.Join(t.TempDir(), "m.safetensors")
			tr := runWatched(t, bin, "train", "--data", in.path, "--target", "label", "--epochs", "2", "--batch", "32",
				"--model", "mlp:8", "--out", model, "--no-progress", "--log-level", "error")
			checkClean(t, "train", in.path, tr)
			ins := runWatched(t, bin, "inspect", in.path)
			checkClean(t, "inspect", in.path, ins)
			mu.Lock()
			peak = max(peak, tr.maxRSS, ins.maxRSS)
			slowest = max(slowest, tr.elapsed, ins.elapsed)
			counts[fmt.Sprintf("train=%d/inspect=%d", tr.code, ins.code)]++
			mu.Unlock()
			switch {
			case in.expect == "train" && tr.code != exitOK:
				t.Errorf("%s (%s): train failed, want it to train:\n%s", in.path, in.what, tr.stderr)
			case in.expect == "error" && tr.code != exitRuntime:
				t.Errorf("%s (%s): train exited %d, want exit 1 with an error", in.path, in.what, tr.code)
			}
			if tr.code == exitOK {
				if _, err := stages.LoadModel(model); err != nil {
					t.Errorf("%s: trained, but the model does not load: %v", in.path, err)
				}
			}
			if testing.Verbose() {
				t.Logf("%s [%s]: train exit %d, inspect exit %d, %v, %d MiB: %s", in.what, in.expect, tr.code, ins.code,
					tr.elapsed.Round(time.Millisecond), tr.maxRSS>>20, firstLine(tr.stderr))
			}
		})
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// writeKillData writes a 3-class Parquet data set of rows rows in row groups of 250.
func writeKillData(t *testing.T, path string, rows int) {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "a", Type: arrow.PrimitiveTypes.Float64}, {Name: "b", Type: arrow.PrimitiveTypes.Float64},
		{Name: "c", Type: arrow.PrimitiveTypes.Float32}, {Name: "d", Type: arrow.PrimitiveTypes.Int32},
		{Name: "label", Type: arrow.BinaryTypes.String},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i := range rows {
		c := (i * 7) % 3
		h := float64((i*2654435761)%1000)/1000 - 0.5
		b.Field(0).(*array.Float64Builder).Append(float64(c) + h)
		b.Field(1).(*array.Float64Builder).Append(float64(i%13) - float64(c))
		b.Field(2).(*array.Float32Builder).Append(float32(h * float64(c+1)))
		b.Field(3).(*array.Int32Builder).Append(int32(i%7 + c))
		b.Field(4).(*array.StringBuilder).Append([]string{"x", "y", "z"}[c])
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pqarrow.NewFileWriter(schema, f, parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(250)), pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// KillLoop configures a SIGKILL loop (see killLoop).
type KillLoop struct {
	Kills int    // kills to make, at least
	Rows  int    // rows of the data set
	Epoch int    // --epochs
	Seed  uint64 // of the kill schedule
}

// killStats counts what a SIGKILL loop did.
type killStats struct {
	kills, midWrite, onTmp, onRename, onTimer int // kills by trigger; midWrite: the killed run left its temporary checkpoint file
	rounds                                    int // complete runs (each compared with the reference)
	checkpointsRead                           int // checkpoints read back while runs went on and after each kill
	staleTmp                                  int // temporary files left in the checkpoint directory at the end of the rounds
	attempts                                  int
}

// trainArgs are the flags of every run of the loop: dropout, a buffer shuffle, 2 readers and 2
// workers, so every source of nondeterminism is in play, and a checkpoint every 20 steps.
func trainArgs(data, ckpt, out string, epochs int) []string {
	return []string{"train", "--data", data, "--target", "label", "--model", "mlp:256,128", "--dropout", "0.1",
		"--optimizer", "adam", "--lr", "0.003", "--epochs", strconv.Itoa(epochs), "--batch", "32", "--shuffle", "buffer",
		"--shuffle-buffer", "700", "--readers", "2", "--normalizers", "2", "--workers", "2", "--seed", "11",
		"--checkpoint", ckpt, "--checkpoint-every", "20", "--out", out, "--no-progress", "--log-level", "warn"}
}

// killLoop runs `pipe train` uninterrupted once for the reference model, then again and again with
// --resume, killing it with SIGKILL at random moments, right after a temporary checkpoint file
// appears (the checkpoint is being written) and right after a checkpoint is renamed into place,
// until lc.Kills kills were made. Each round ends with a run that completes; its model file must be
// byte-identical to the reference. Every checkpoint seen (on each rename while runs go on, and after
// each kill) must load. It returns what happened.
func killLoop(t *testing.T, lc KillLoop) killStats {
	bin := pipeBinary(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data.parquet")
	writeKillData(t, data, lc.Rows)
	refOut := filepath.Join(dir, "ref.safetensors")
	start := time.Now()
	if out, err := exec.Command(bin, trainArgs(data, filepath.Join(dir, "ref-ckpt"), refOut, lc.Epoch)...).CombinedOutput(); err != nil {
		t.Fatalf("reference run: %v\n%s", err, out)
	}
	whole := time.Since(start)
	ref, err := os.ReadFile(refOut)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("reference run: %v", whole.Round(time.Millisecond))
	rng := rand.New(rand.NewPCG(lc.Seed, 99))
	var st killStats
	for round := 0; st.kills < lc.Kills; round++ {
		ckpt := filepath.Join(dir, fmt.Sprintf("ckpt-%d", round))
		out := filepath.Join(dir, fmt.Sprintf("model-%d.safetensors", round))
		if err := os.MkdirAll(ckpt, 0o755); err != nil {
			t.Fatal(err)
		}
		w := newDirWatch(t, ckpt)
		for {
			st.attempts++
			if st.attempts > 40*lc.Kills+40 {
				t.Fatalf("no end after %d attempts (%d kills)", st.attempts, st.kills)
			}
			args := trainArgs(data, ckpt, out, lc.Epoch)
			if _, err := os.Stat(filepath.Join(ckpt, stages.CheckpointFile)); err == nil {
				args = append(args, "--resume")
			}
			// Kill kinds in turn: a timer, the next temporary checkpoint file, the next rename.
			kind := []string{"timer", "tmp", "timer", "rename"}[st.attempts%4]
			if st.kills >= lc.Kills {
				kind = "none" // enough kills: let the round finish
			}
			delay := time.Duration(rng.Float64() * float64(2*whole/time.Duration(lc.Kills)))
			before := w.tmpFiles()
			trigger, code, stderr := w.run(bin, args, kind, delay)
			if trigger != "" {
				st.kills++
				switch trigger {
				case "tmp":
					st.onTmp++
				case "rename":
					st.onRename++
				default:
					st.onTimer++
				}
				if w.tmpFiles() > before { // this run's temporary checkpoint file: killed while writing it
					st.midWrite++
				}
				if p := filepath.Join(ckpt, stages.CheckpointFile); fileExists(p) {
					checkCheckpoint(t, p)
					st.checkpointsRead++
				}
				continue
			}
			if code != exitOK {
				t.Fatalf("run %d (%v) exited %d:\n%s", st.attempts, args[len(args)-1], code, stderr)
			}
			break
		}
		st.checkpointsRead += w.stop()
		st.staleTmp += w.tmpFiles()
		st.rounds++
		got, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, ref) {
			t.Fatalf("round %d: the model file after %d kills differs from the uninterrupted run's", round, st.kills)
		}
	}
	return st
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// checkCheckpoint reads a checkpoint as a safetensors file and as a model.
func checkCheckpoint(t *testing.T, path string) {
	t.Helper()
	if _, err := safetensors.ReadFile(path); err != nil {
		t.Fatalf("checkpoint unreadable: %v", err)
	}
	if _, err := stages.LoadModel(path); err != nil {
		t.Fatalf("checkpoint does not load as a model: %v", err)
	}
}

// dirWatch watches a checkpoint directory with inotify: it reports temporary checkpoint files
// being created and checkpoints being renamed into place, and reads back every checkpoint renamed in.
type dirWatch struct {
	t       *testing.T
	dir     string
	fd      int
	events  chan string // "tmp" or "rename"
	stopped chan struct{}
	done    chan struct{}
	read    atomic.Int64
	failed  atomic.Value // error
}

func newDirWatch(t *testing.T, dir string) *dirWatch {
	t.Helper()
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		t.Skipf("inotify: %v", err)
	}
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_CREATE|unix.IN_MOVED_TO); err != nil {
		unix.Close(fd)
		t.Fatal(err)
	}
	w := &dirWatch{t: t, dir: dir, fd: fd, events: make(chan string, 64), stopped: make(chan struct{}), done: make(chan struct{})}
	go w.loop()
	return w
}

func (w *dirWatch) loop() {
	defer close(w.done)
	buf := make([]byte, 64<<10)
	for {
		select {
		case <-w.stopped:
			return
		default:
		}
		fds := []unix.PollFd{{Fd: int32(w.fd), Events: unix.POLLIN}}
		if n, err := unix.Poll(fds, 20); err != nil || n == 0 {
			continue
		}
		n, err := unix.Read(w.fd, buf)
		if err != nil || n <= 0 {
			continue
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			name := strings.TrimRight(string(buf[off+unix.SizeofInotifyEvent:off+unix.SizeofInotifyEvent+int(ev.Len)]), "\x00")
			off += unix.SizeofInotifyEvent + int(ev.Len)
			switch {
			case ev.Mask&unix.IN_CREATE != 0 && strings.Contains(name, ".tmp"):
				w.send("tmp")
			case ev.Mask&unix.IN_MOVED_TO != 0 && name == stages.CheckpointFile:
				w.send("rename")
				// A checkpoint renamed into place is complete: read it while the run goes on.
				if _, err := safetensors.ReadFile(filepath.Join(w.dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
					w.failed.Store(fmt.Errorf("checkpoint read during the run: %w", err))
				} else if err == nil {
					w.read.Add(1)
				}
			}
		}
	}
}

func (w *dirWatch) send(ev string) {
	select {
	case w.events <- ev:
	default:
	}
}

// run starts the binary and kills it with SIGKILL after delay (kind "timer") or at the next event
// of the kind ("tmp", "rename"; with a timer of 5 s as a fallback), or lets it run ("none", for 10
// minutes at most). It reports what triggered the
// kill ("" if the process exited first), its exit code and its stderr.
func (w *dirWatch) run(bin string, args []string, kind string, delay time.Duration) (string, int, string) {
	for len(w.events) > 0 { // events of an earlier run
		<-w.events
	}
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	timeout := delay
	switch kind {
	case "none":
		timeout = 10 * time.Minute
	case "tmp", "rename":
		timeout = 5 * time.Second
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	kill := func() bool {
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			<-exited
			return false // already gone
		}
		<-exited
		ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
		return ws.Signaled() && ws.Signal() == syscall.SIGKILL
	}
	result := func(trigger string) (string, int, string) {
		if !kill() {
			trigger = ""
		}
		return trigger, cmd.ProcessState.ExitCode(), stderr.String()
	}
	for {
		select {
		case <-exited:
			return "", cmd.ProcessState.ExitCode(), stderr.String()
		case <-timer.C:
			return result("timer")
		case ev := <-w.events:
			if ev == kind {
				return result(kind)
			}
		}
	}
}

// tmpFiles counts temporary checkpoint files in the directory.
func (w *dirWatch) tmpFiles() int {
	entries, _ := os.ReadDir(w.dir)
	n := 0
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			n++
		}
	}
	return n
}

// stop ends the watch and returns the number of checkpoints read during the runs.
func (w *dirWatch) stop() int {
	close(w.stopped)
	<-w.done
	unix.Close(w.fd)
	if err, ok := w.failed.Load().(error); ok && err != nil {
		w.t.Fatal(err)
	}
	return int(w.read.Load())
}

// TestSIGKILLResume kills `pipe train` with SIGKILL again and again (3 times with -short, at least 20
// times otherwise; bench/sigkill.sh runs more), resuming each time: the final model file is
// byte-identical to an uninterrupted run's and every checkpoint seen loads.
func TestSIGKILLResume(t *testing.T) {
	lc := KillLoop{Kills: 20, Rows: 4000, Epoch: 20, Seed: uint64(time.Now().UnixNano())}
	if testing.Short() {
		lc = KillLoop{Kills: 3, Rows: 2000, Epoch: 5, Seed: uint64(time.Now().UnixNano())}
	}
	if s := os.Getenv("SGDPIPE_KILLS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("SGDPIPE_KILLS=%q: want a positive number", s)
		}
		lc.Kills = n
	}
	t.Logf("kill schedule seed %d", lc.Seed)
	start := time.Now()
	st := killLoop(t, lc)
	t.Logf("%d kills (%d on a timer, %d as a temporary checkpoint file appeared, %d right after a rename; %d left a temporary file behind: killed mid-write) "+
		"in %d attempts and %d rounds, each round's model byte-identical to the uninterrupted run's; %d checkpoints read back, all valid; %d stale temporary files; %v",
		st.kills, st.onTimer, st.onTmp, st.onRename, st.midWrite, st.attempts, st.rounds, st.checkpointsRead, st.staleTmp, time.Since(start).Round(time.Second))
	if st.kills < lc.Kills || st.rounds < 1 {
		t.Errorf("%d kills in %d rounds, want at least %d kills", st.kills, st.rounds, lc.Kills)
	}
}

// TestCheckpointDiskFullCLI runs pipe train with its checkpoints on a tmpfs too small for two: the
// run fails with one line saying the disk is full, exit 1, and the first checkpoint stays readable.
func TestCheckpointDiskFullCLI(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data.parquet")
	writeKillData(t, data, 1000)
	ckpt := filepath.Join(dir, "ckpt")
	if err := os.Mkdir(ckpt, 0o755); err != nil {
		t.Fatal(err)
	}
	// mlp:256,128 with Adam: about 0.4 MB of parameters and state per checkpoint.
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", ckpt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root and CAP_SYS_ADMIN): %v: %s", err, bytes.TrimSpace(out))
	}
	defer func() {
		if out, err := exec.Command("umount", ckpt).CombinedOutput(); err != nil {
			t.Errorf("umount: %v: %s", err, out)
		}
	}()
	code, _, stderr := runPipe(t, trainArgs(data, ckpt, filepath.Join(dir, "m.safetensors"), 3)...)
	msg := strings.TrimSpace(stderr)
	if code != exitRuntime || strings.Contains(msg, "\n") || !strings.Contains(msg, "disk full") || !strings.Contains(msg, ckpt) {
		t.Fatalf("exit %d, want 1 with one line saying the disk under %s is full:\n%s", code, ckpt, stderr)
	}
	checkCheckpoint(t, filepath.Join(ckpt, stages.CheckpointFile))
	if fileExists(filepath.Join(dir, "m.safetensors")) {
		t.Error("a model file was written by a failed run")
	}
}
