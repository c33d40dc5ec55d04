package source_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/sgdpipe/sgdpipe/io/source"
)

// Open a Parquet file, find the label column and read every shard over it.
func Example() {
	d, err := source.Open([]string{"../../testdata/shared/iris.parquet"}, source.Options{BatchRows: 64})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	label, err := d.ColumnIndex("label")
	if err != nil {
		fmt.Println(err)
		return
	}
	counts := map[int64]int{}
	for i := range d.Shards {
		err := d.ReadShard(context.Background(), i, []int{label}, func(rec arrow.RecordBatch) error {
			defer rec.Release() // the receiver owns every record
			for _, v := range rec.Column(0).(*array.Int64).Int64Values() {
				counts[v]++
			}
			return nil
		})
		if err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Println(d.Files[0].Format, d.Rows, "rows in", len(d.Shards), "shard; classes:", d.Files[0].Meta["class_names"])
	fmt.Println(counts)
	// Output:
	// parquet 150 rows in 1 shard; classes: setosa,versicolor,virginica
	// map[0:50 1:50 2:50]
}

// A CSV file is cut into chunks of ChunkRows rows; types are inferred from a sample.
func ExampleOpen_csv() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "people.csv")
	os.WriteFile(path, []byte("name,age,member\n\"Doe, Jane\",41,true\nBob,,false\nAl,7,true\n"), 0o644)
	d, err := source.Open([]string{path}, source.Options{CSV: source.CSVOptions{ChunkRows: 2}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Schema.Fields())
	for _, s := range d.Shards {
		fmt.Printf("shard %d: %d rows from row %d\n", s.Index, s.Rows, s.First)
	}
	// Output:
	// [name: type=utf8, nullable age: type=int64, nullable member: type=bool, nullable]
	// shard 0: 2 rows from row 0
	// shard 1: 1 rows from row 2
}

// Inspect summarises a dataset for `pipe inspect`.
func ExampleInspect() {
	d, err := source.Open([]string{"../../testdata/mnist/test.parquet"}, source.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := source.Inspect(context.Background(), d)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range s.Schema {
		fmt.Printf("%s %s nulls=%d min=%v max=%v (%s)\n", c.Name, c.Type, c.Nulls, *c.Min, *c.Max, c.StatsFrom)
	}
	// Output:
	// pixels fixed_size_list<element: uint8>[784] nulls=0 min=0 max=255 (scan)
	// label uint8 nulls=0 min=0 max=9 (statistics)
}

// Errors name the file and what is wrong, on one line.
func ExampleDataset_ColumnIndex() {
	d, err := source.Open([]string{"../../testdata/shared/iris.arrow"}, source.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = d.ColumnIndex("species")
	fmt.Println(err)
	// Output:
	// column "species" not found in ../../testdata/shared/iris.arrow (columns: sepal_length_cm, sepal_width_cm, petal_length_cm, petal_width_cm, label)
}
