package feature_test

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/sgdpipe/sgdpipe/stages/feature"
)

// A Spec read back from a model file transforms new records exactly as in training: here a
// z-scored number, a one-hot colour and a binary label.
func ExampleSpec_Transform() {
	const stored = `{"version":1,"target":"label","target_kind":"string","task":"binary","classes":["no","yes"],
	  "normalize":"zscore","allow_non_finite":false,"dim":5,"rows":4,"features":[
	  {"name":"size","type":"float64","encoding":"numeric","offset":0,"width":1,"nulls":0,
	   "stats":[{"n":4,"mean":2,"m2":8,"min":0,"max":4}]},
	  {"name":"colour","type":"utf8","encoding":"onehot","offset":1,"width":4,"nulls":0,"vocab":["blue","red"],"distinct":3}]}`
	var spec feature.Spec
	if err := json.Unmarshal([]byte(stored), &spec); err != nil {
		fmt.Println(err)
		return
	}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "size", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "colour", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "label", Type: arrow.BinaryTypes.String},
	}, nil)
	rec, _, err := array.RecordFromJSON(memory.DefaultAllocator, schema, strings.NewReader(
		`[{"size":4,"colour":"red","label":"yes"},{"size":null,"colour":"green","label":"no"},{"size":0,"colour":null,"label":"no"}]`))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rec.Release()

	out, err := spec.Transform(rec, memory.DefaultAllocator)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer out.Release()
	x, rows, d := feature.XMatrix(out)
	y := out.Column(1).(*array.Int32).Int32Values()
	for r := range rows {
		fmt.Println(x[r*d:(r+1)*d], y[r])
	}
	fmt.Println(spec.Counters()["imputed/size"], spec.Counters()["unseen/colour"])
	// Output:
	// [1.4142135 0 1 0 0] 1
	// [0 0 0 1 0] 0
	// [-1.4142135 0 0 0 1] 0
	// 1 1
}

// Moments computed per shard merge into the moments of the whole.
func ExampleMoments() {
	var a, b, whole feature.Moments
	for _, v := range []float64{1, 2, 3} {
		a.Add(v)
		whole.Add(v)
	}
	for _, v := range []float64{10, 20} {
		b.Add(v)
		whole.Add(v)
	}
	a.Merge(b)
	fmt.Printf("merged: n=%d mean=%.4f variance=%.4f min=%g max=%g\n", a.Count(), a.Mean(), a.Variance(), a.Min(), a.Max())
	fmt.Printf("whole:  n=%d mean=%.4f variance=%.4f min=%g max=%g\n", whole.Count(), whole.Mean(), whole.Variance(), whole.Min(), whole.Max())
	// Output:
	// merged: n=5 mean=7.2000 variance=50.9600 min=1 max=20
	// whole:  n=5 mean=7.2000 variance=50.9600 min=1 max=20
}

// HashBucket is the stable bucket of the hashing trick (FNV-1a, 64 bit).
func ExampleHashBucket() {
	for _, v := range []string{"paris", "tokyo", "paris"} {
		fmt.Println(v, feature.HashBucket(v, 1000))
	}
	// Output:
	// paris 512
	// tokyo 833
	// paris 512
}
