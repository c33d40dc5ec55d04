package source

import (
	"path/filepath"
	"strings"
	"testing"
)

// corruptDir holds the files internal/corruptgen writes.
var corruptDir = filepath.Join("..", "..", "testdata", "corrupt")

// TestInconsistentMetadata opens files whose two copies of something disagree: the magic at the start
// and at the end, a Parquet column's physical type in the schema and in the column chunks, an IPC
// file's schema in the footer and in the schema message. Open refuses them naming the file and what
// differs; the clean files they derive from open.
func TestInconsistentMetadata(t *testing.T) {
	tests := []struct {
		file string
		want string // "" = opens
	}{
		{"clean.parquet", ""},
		{"clean.arrow", ""},
		{"clean.arrows", ""},
		{"bad-magic-head.parquet", `it starts with "PAR0", not the PAR1 magic`},
		{"bad-magic-head.arrow", `it starts with "ARROW2", not the ARROW1 magic`},
		{"typelie-f0-int64.parquet", `column "f0" is INT64 in the schema but DOUBLE in row group 0`},
		{"typelie-f0-float.parquet", `column "f0" is FLOAT in the schema but DOUBLE in row group 0`},
		{"typelie-f0-boolean.parquet", `column "f0" is BOOLEAN in the schema but DOUBLE in row group 0`},
		{"typelie-f0-byte_array.parquet", `column "f0" is BYTE_ARRAY in the schema but DOUBLE in row group 0`},
		{"typelie-f0-bool.arrow", `column 0 is "f0" bool in the footer's schema but "f0" float64 in the schema message`},
		{"typelie-f0-string.arrow", `column 0 is "f0" utf8 in the footer's schema but "f0" float64 in the schema message`},
		// A stream has one schema: a same-size lie (bool over float64 buffers) cannot be told.
		{"typelie-f0-bool.arrows", ""},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join(corruptDir, tc.file)
			d, err := Open([]string{path}, Options{})
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Open: %v", err)
			case tc.want == "":
				if d.Rows != 600 {
					t.Errorf("%d rows, want 600", d.Rows)
				}
			case err == nil:
				t.Fatalf("Open succeeded, want an error containing %q", tc.want)
			case !strings.HasPrefix(err.Error(), path) || !strings.Contains(err.Error(), tc.want):
				t.Errorf("error %q: want it to start with the path and contain %q", err, tc.want)
			}
		})
	}
}
