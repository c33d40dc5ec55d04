package sink

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Format is the file format of a table sink. The zero value, [Auto], chooses
// the format from the file's extension.
type Format int

const (
	// Auto chooses the format from the path's extension (see [FormatOf]).
	Auto Format = iota
	// Parquet writes a zstd-compressed Parquet file with the Arrow schema stored
	// in its metadata, so readers get the exact Arrow types back.
	Parquet
	// CSV writes RFC 4180 CSV with a header line; nulls are empty fields.
	CSV
)

// String returns "auto", "parquet" or "csv".
func (f Format) String() string {
	switch f {
	case Auto:
		return "auto"
	case Parquet:
		return "parquet"
	case CSV:
		return "csv"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// FormatOf returns the format for path's extension, case-insensitively:
// .parquet and .pq give [Parquet], .csv gives [CSV]. Any other extension is an
// error that names path and the extensions to use.
func FormatOf(path string) (Format, error) {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".parquet", ".pq":
		return Parquet, nil
	case ".csv":
		return CSV, nil
	default:
		return Auto, fmt.Errorf("%s: unknown extension %q: name the file .parquet or .csv", path, ext)
	}
}

// resolve returns f, or the format of path's extension when f is Auto.
func resolve(path string, f Format) (Format, error) {
	switch f {
	case Auto:
		return FormatOf(path)
	case Parquet, CSV:
		return f, nil
	}
	return Auto, fmt.Errorf("%s: invalid format %v: use Auto, Parquet or CSV", path, f)
}
