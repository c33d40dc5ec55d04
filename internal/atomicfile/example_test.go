package atomicfile_test

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sgdpipe/sgdpipe/internal/atomicfile"
)

func ExampleWriteFile() {
	dir, err := os.MkdirTemp("", "atomicfile-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model.txt")

	err = atomicfile.WriteFile(path, func(w io.Writer) error {
		_, err := io.WriteString(w, "weights v1")
		return err
	})
	fmt.Println(err)

	// A failed write leaves the previous version in place.
	err = atomicfile.WriteFile(path, func(w io.Writer) error {
		io.WriteString(w, "half of v2")
		return fmt.Errorf("training diverged")
	})
	fmt.Println(err)
	b, _ := os.ReadFile(path)
	fmt.Println(string(b))
	// Output:
	// <nil>
	// training diverged
	// weights v1
}

func ExampleCreate() {
	dir, err := os.MkdirTemp("", "atomicfile-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "predictions.csv")

	f, err := atomicfile.Create(path)
	if err != nil {
		panic(err)
	}
	defer f.Abort() // no-op once committed
	for i := range 3 {
		fmt.Fprintf(f, "%d,%d\n", i, i*i)
	}
	if err := f.Commit(); err != nil {
		panic(err)
	}
	b, _ := os.ReadFile(path)
	fmt.Print(string(b))
	// Output:
	// 0,0
	// 1,1
	// 2,4
}
