package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"

	"github.com/sgdpipe/sgdpipe/internal/atomicfile"
)

// profiles holds the --cpu-profile and --mem-profile paths of a command.
type profiles struct {
	cpu, mem string
	cpuFile  *os.File
}

// start begins the CPU profile, if asked for. The caller must call stop.
func (p *profiles) start() error {
	if p.cpu == "" {
		return nil
	}
	f, err := os.Create(p.cpu)
	if err != nil {
		return usagef("--cpu-profile: %v", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("--cpu-profile %s: %v", p.cpu, err)
	}
	p.cpuFile = f
	return nil
}

// stop ends the CPU profile and writes the heap profile (allocations since the start of the
// process: `go tool pprof -sample_index=alloc_space`), each one if asked for.
func (p *profiles) stop() error {
	var first error
	if p.cpuFile != nil {
		pprof.StopCPUProfile()
		if err := p.cpuFile.Close(); err != nil {
			first = fmt.Errorf("--cpu-profile %s: %v", p.cpu, err)
		}
		p.cpuFile = nil
	}
	if p.mem != "" {
		runtime.GC() // up-to-date in-use figures
		err := atomicfile.WriteFile(p.mem, func(w io.Writer) error { return pprof.Lookup("allocs").WriteTo(w, 0) })
		if err != nil && first == nil {
			first = fmt.Errorf("--mem-profile %s: %v", p.mem, err)
		}
	}
	return first
}
