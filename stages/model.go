package stages

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/sgdpipe/sgdpipe/io/safetensors"
	"github.com/sgdpipe/sgdpipe/ops"
	"github.com/sgdpipe/sgdpipe/stages/feature"
)

// ModelFormat is the value of the "sgdpipe.format" metadata key of the model files this version writes.
const ModelFormat = "1"

// Metadata keys of a model file (safetensors __metadata__).
const (
	metaFormat   = "sgdpipe.format"
	metaModel    = "sgdpipe.model"    // ops.Spec JSON: the hidden layers
	metaFeatures = "sgdpipe.features" // feature.Spec JSON: columns, encodings, statistics, classes
	metaLoss     = "sgdpipe.loss"     // loss in ParseLoss syntax
	metaInDim    = "sgdpipe.in_dim"
	metaOutDim   = "sgdpipe.out_dim"
	metaRecipe   = "sgdpipe.recipe" // the training recipe (JSON), for the record
)

// Model is a trained model: the network, its parameters, and the feature spec that turns source
// records into its inputs exactly as in training. It is everything `pipe eval` and `pipe predict` need.
//
// A Model is immutable once built; safe for concurrent reads.
type Model struct {
	Spec     ops.Spec
	Features *feature.Spec
	Loss     ops.Loss
	Net      *ops.Net
	Params   []float32 // flat, layout Net.Layout()
	Recipe   string    // JSON of the training recipe (informational)
}

// tensors returns the parameters as named safetensors tensors (PyTorch nn.Sequential names, e.g.
// "0.weight" (out, in) and "0.bias" (out)), so the file loads into an equivalent torch model.
func (m *Model) tensors(params []float32) []safetensors.Tensor {
	lay := m.Net.Layout()
	out := make([]safetensors.Tensor, 0, len(lay.Tensors))
	for _, t := range lay.Tensors {
		out = append(out, safetensors.FromFloat32(t.Name, t.Shape, t.Of(params)))
	}
	return out
}

// metadata returns the model's safetensors metadata.
func (m *Model) metadata() (map[string]string, error) {
	spec, err := json.Marshal(m.Spec)
	if err != nil {
		return nil, err
	}
	feats, err := json.Marshal(m.Features)
	if err != nil {
		return nil, err
	}
	meta := map[string]string{
		metaFormat:   ModelFormat,
		metaModel:    string(spec),
		metaFeatures: string(feats),
		metaLoss:     m.Loss.String(),
		metaInDim:    strconv.Itoa(m.Net.InDim()),
		metaOutDim:   strconv.Itoa(m.Net.OutDim()),
	}
	if m.Recipe != "" {
		meta[metaRecipe] = m.Recipe
	}
	return meta, nil
}

// Save writes the model to path as safetensors, atomically (temp file, fsync, rename): a crash leaves
// either the old file or the new one.
func (m *Model) Save(path string) error {
	meta, err := m.metadata()
	if err != nil {
		return fmt.Errorf("model %s: %w", path, err)
	}
	return safetensors.WriteFile(path, m.tensors(m.Params), meta)
}

// LoadModel reads a model file written by Save. Errors name the file and what is wrong with it.
func LoadModel(path string) (*Model, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := modelFrom(f)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", path, err)
	}
	return m, nil
}

// modelFrom rebuilds a model from a parsed safetensors file (model file or checkpoint).
func modelFrom(f *safetensors.File) (*Model, error) {
	meta := f.Metadata()
	if v := meta[metaFormat]; v != ModelFormat {
		if v == "" {
			return nil, fmt.Errorf("not an sgdpipe model (no %s metadata)", metaFormat)
		}
		return nil, fmt.Errorf("model format %q is not supported (this pipe reads %q)", v, ModelFormat)
	}
	var m Model
	if err := json.Unmarshal([]byte(meta[metaModel]), &m.Spec); err != nil {
		return nil, fmt.Errorf("metadata %s: %w", metaModel, err)
	}
	if err := m.Spec.Validate(); err != nil {
		return nil, fmt.Errorf("metadata %s: %w", metaModel, err)
	}
	m.Features = new(feature.Spec)
	if err := json.Unmarshal([]byte(meta[metaFeatures]), m.Features); err != nil {
		return nil, fmt.Errorf("metadata %s: %w", metaFeatures, err)
	}
	loss, err := ops.ParseLoss(meta[metaLoss])
	if err != nil {
		return nil, fmt.Errorf("metadata %s: %w", metaLoss, err)
	}
	m.Loss = loss
	in, err1 := strconv.Atoi(meta[metaInDim])
	out, err2 := strconv.Atoi(meta[metaOutDim])
	if err1 != nil || err2 != nil || in < 1 || out < 1 {
		return nil, fmt.Errorf("metadata %s/%s: bad dimensions %q, %q", metaInDim, metaOutDim, meta[metaInDim], meta[metaOutDim])
	}
	if in != m.Features.Dim {
		return nil, fmt.Errorf("input width %d does not match the feature spec's %d", in, m.Features.Dim)
	}
	if want, err := outputs(m.Features); err != nil || want != out {
		return nil, fmt.Errorf("output width %d does not match the feature spec (task %s, %d classes)", out, m.Features.Task, len(m.Features.Classes))
	}
	m.Net, err = ops.NewNet(m.Spec, in, out)
	if err != nil {
		return nil, err
	}
	// Every tensor is checked against the file before anything is allocated, so that metadata
	// cannot make a small file ask for a large parameter vector.
	for _, t := range m.Net.Layout().Tensors {
		ft, err := f.Tensor(t.Name)
		if err != nil {
			return nil, err
		}
		n := 1
		for _, d := range ft.Shape {
			n *= d
		}
		if n != t.Size {
			return nil, fmt.Errorf("tensor %q has %d values, the model needs %d", t.Name, n, t.Size)
		}
	}
	m.Params = m.Net.Layout().NewVector()
	for _, t := range m.Net.Layout().Tensors {
		v, err := f.Float32(t.Name)
		if err != nil {
			return nil, err
		}
		if len(v) != t.Size {
			return nil, fmt.Errorf("tensor %q has %d values, the model needs %d", t.Name, len(v), t.Size)
		}
		copy(t.Of(m.Params), v)
	}
	m.Recipe = meta[metaRecipe]
	return &m, nil
}
