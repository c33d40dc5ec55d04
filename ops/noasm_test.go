//go:build noasm

package ops

// noasmBuild is true when the package is built with -tags noasm.
const noasmBuild = true
