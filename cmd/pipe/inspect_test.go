package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestInspectSharedFixtures reads every fixture written by independent tools (DuckDB, Arrow JS) and
// checks the row counts and columns their MANIFEST states.
func TestInspectSharedFixtures(t *testing.T) {
	iris := []string{"sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm", "label"}
	tests := []struct {
		file    string
		rows    int64
		shards  int
		columns []string
		types   map[string]string
	}{
		{"iris.csv", 150, 1, iris, map[string]string{"label": "int64"}},
		{"iris.parquet", 150, 1, iris, map[string]string{"sepal_length_cm": "float64", "label": "int64"}},
		{"iris.arrow", 150, 3, iris, map[string]string{"label": "int32"}},
		{"iris.arrows", 150, 1, iris, map[string]string{"label": "int32"}},
		{"breast_cancer.csv", 569, 1, nil, map[string]string{"mean_radius": "float64", "label": "int64"}},
		{"breast_cancer.parquet", 569, 1, nil, map[string]string{"worst_fractal_dimension": "float64", "label": "int64"}},
		{"mnist_test_tensor.parquet", 10000, 1, []string{"pixels", "label"}, map[string]string{"label": "int32"}},
		{"mnist_test_wide.parquet", 10000, 1, nil, map[string]string{"p0": "uint8", "p783": "uint8", "label": "uint8"}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			code, stdout, stderr := runPipe(t, "inspect", "--json", "../../testdata/shared/"+tc.file)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var got struct {
				Rows   int64
				Shards int
				Schema []struct{ Name, Type string }
			}
			if err := json.Unmarshal([]byte(stdout), &got); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, stdout)
			}
			if got.Rows != tc.rows || got.Shards != tc.shards {
				t.Errorf("rows %d shards %d, want %d and %d", got.Rows, got.Shards, tc.rows, tc.shards)
			}
			types := map[string]string{}
			var names []string
			for _, c := range got.Schema {
				types[c.Name] = c.Type
				names = append(names, c.Name)
			}
			if tc.columns != nil && strings.Join(names, ",") != strings.Join(tc.columns, ",") {
				t.Errorf("columns %v, want %v", names, tc.columns)
			}
			for col, typ := range tc.types {
				if !strings.HasPrefix(types[col], typ) {
					t.Errorf("column %s has type %q, want %q", col, types[col], typ)
				}
			}
		})
	}
}

func TestInspectText(t *testing.T) {
	code, stdout, stderr := runPipe(t, "inspect", "../../testdata/mnist/train.parquet")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"60000 rows", "6 shard(s)", "pixels", "label", "fixed_size_list"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
}

func TestInspectStats(t *testing.T) {
	code, stdout, stderr := runPipe(t, "inspect", "--stats", "--target", "label", "../../testdata/shared/iris.csv")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"x of width 4", "classification, 3 classes", "sepal_length_cm  numeric", "5.843"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	code, stdout, _ = runPipe(t, "inspect", "--stats", "--json", "--target", "label", "../../testdata/shared/iris.parquet")
	var got struct {
		Rows     int64
		Features struct {
			Dim     int
			Task    string
			Classes []string
		}
	}
	if code != exitOK || json.Unmarshal([]byte(stdout), &got) != nil {
		t.Fatalf("exit %d, output %s", code, stdout)
	}
	if got.Rows != 150 || got.Features.Dim != 4 || got.Features.Task != "classification" || len(got.Features.Classes) != 3 {
		t.Errorf("stats %+v", got)
	}
	code, _, stderr = runPipe(t, "inspect", "--stats", "--target", "species", "../../testdata/shared/iris.parquet")
	if code != exitRuntime || !strings.Contains(stderr, `"species"`) {
		t.Errorf("missing target: exit %d, %s", code, stderr)
	}
}
