package feature

import (
	"fmt"
	"slices"
)

// Task is the learning problem a target column defines. Its zero value "" means "infer it from the
// target" in a Config and "no target" in a Spec.
type Task string

// The tasks. Binary is classification with exactly two classes (one logit is enough).
const (
	Classification Task = "classification"
	Binary         Task = "binary"
	Regression     Task = "regression"
)

// The normalizations Config.Normalize accepts.
const (
	NormZScore = "zscore" // (x - mean) / std, std 0 counted as 1: mean 0, variance 1 over the fit data
	NormMinMax = "minmax" // (x - min) / (max - min), range 0 counted as 1: [0, 1] over the fit data
	NormNone   = "none"   // x as it is (nulls are still imputed with the mean)
)

// Defaults applied to zero fields of a Config.
const (
	DefaultMaxVocab   = 64
	DefaultMaxClasses = 100
	// MaxDistinct bounds the distinct values Fit counts for one one-hot column; beyond it Fit fails
	// and asks for HashBuckets, so that memory stays bounded on identifier-like columns.
	MaxDistinct = 1 << 20
	// MaxDim bounds Spec.Dim (the width of x): 16 Mi float32 values per row.
	MaxDim = 1 << 24
)

// RowColumn is the name of the optional trailing int64 column that carries each row's global index
// through Transform; errors name rows by it.
const RowColumn = "__row"

// Config says which columns Fit uses and how it encodes them. The zero value fits every column of the
// dataset as a feature with z-scores, one-hot vocabularies of at most DefaultMaxVocab values and no
// target. Fit validates it and names the field at fault; a Config is only read, never modified.
type Config struct {
	// Target is the target column; "" means no target (unsupervised, or predict-only specs).
	Target string
	// Features lists the feature columns in the order they are laid out in x; nil means every column
	// of the dataset except Target, the Exclude columns and RowColumn, in schema order.
	Features []string
	// Exclude lists columns left out when Features is nil; each must exist in the dataset.
	Exclude []string
	// Normalize is NormZScore (the default when ""), NormMinMax or NormNone. It applies to numeric,
	// boolean and tensor columns; one-hot and hashed columns are 0/1 indicators.
	Normalize string
	// HashBuckets > 0 hashes string and dictionary columns into that many buckets (FNV-1a, 64 bit,
	// modulo HashBuckets) plus one bucket for nulls. 0 builds one-hot vocabularies instead.
	HashBuckets int
	// MaxVocab is the number of most frequent values kept per one-hot column (default 64, ties broken
	// by byte order); the others map to an "other" slot, and nulls to a "missing" slot.
	MaxVocab int
	// AllowNonFinite treats NaN and ±Inf in a feature as null (imputed and counted); when false they
	// are an error that names the file, column and row.
	AllowNonFinite bool
	// Task is the task; "" infers it from the target's type: strings, dictionaries and booleans
	// classify; integers with at most MaxClasses distinct values classify, other integers regress;
	// floats regress. A classification with two classes is Binary.
	Task Task
	// MaxClasses bounds the number of classes (default 100), both for inference and for an explicit
	// Classification task.
	MaxClasses int
}

// withDefaults returns c with the documented defaults filled in, or an error naming the field at fault.
func (c Config) withDefaults() (Config, error) {
	switch c.Normalize {
	case "":
		c.Normalize = NormZScore
	case NormZScore, NormMinMax, NormNone:
	default:
		return c, fmt.Errorf("feature: Normalize: want %q, %q or %q, got %q", NormZScore, NormMinMax, NormNone, c.Normalize)
	}
	switch c.Task {
	case "", Classification, Binary, Regression:
	default:
		return c, fmt.Errorf("feature: Task: want %q, %q, %q or \"\" (infer), got %q", Classification, Binary, Regression, c.Task)
	}
	if c.Task != "" && c.Target == "" {
		return c, fmt.Errorf("feature: Task is %q but Target is empty: name the target column", c.Task)
	}
	if c.HashBuckets < 0 || c.HashBuckets >= MaxDim {
		return c, fmt.Errorf("feature: HashBuckets: want 0 (one-hot) or 1..%d, got %d", MaxDim-1, c.HashBuckets)
	}
	switch {
	case c.MaxVocab == 0:
		c.MaxVocab = DefaultMaxVocab
	case c.MaxVocab < 0 || c.MaxVocab > MaxDistinct:
		return c, fmt.Errorf("feature: MaxVocab: want 1..%d (0 = %d), got %d", MaxDistinct, DefaultMaxVocab, c.MaxVocab)
	}
	switch {
	case c.MaxClasses == 0:
		c.MaxClasses = DefaultMaxClasses
	case c.MaxClasses < 2 || c.MaxClasses > MaxDistinct:
		return c, fmt.Errorf("feature: MaxClasses: want 2..%d (0 = %d), got %d", MaxDistinct, DefaultMaxClasses, c.MaxClasses)
	}
	if c.Features != nil && len(c.Features) == 0 {
		return c, fmt.Errorf("feature: Features is empty: list at least one column, or leave it nil for all")
	}
	if c.Features != nil && len(c.Exclude) > 0 {
		return c, fmt.Errorf("feature: Exclude applies only when Features is nil: remove the excluded names from Features instead")
	}
	for _, list := range [][]string{c.Features, c.Exclude} {
		for i, name := range list {
			if name == "" {
				return c, fmt.Errorf("feature: empty column name in Features or Exclude")
			}
			if slices.Contains(list[:i], name) {
				return c, fmt.Errorf("feature: column %q listed twice", name)
			}
			if name == c.Target {
				return c, fmt.Errorf("feature: column %q is the target: it cannot be a feature or excluded", name)
			}
		}
	}
	return c, nil
}
