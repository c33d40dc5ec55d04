package ops

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseSpec(t *testing.T) {
	dense := func(u int) LayerSpec { return LayerSpec{Type: LayerDense, Units: u} }
	relu := LayerSpec{Type: LayerReLU}
	cases := []struct {
		model, act string
		drop       float64
		want       string // Spec.String()
		wantErr    string // prefix of the error
	}{
		{"linear", "", 0, "dense(out)", ""},
		{"linear", "relu", 0, "dense(out)", ""},
		{" mlp:256,128 ", "", 0, "dense(256)-relu-dense(128)-relu-dense(out)", ""},
		{"mlp:256, 128", "relu", 0.1, "dense(256)-relu-dropout(0.1)-dense(128)-relu-dropout(0.1)-dense(out)", ""},
		{"mlp:5", "leakyrelu", 0, "dense(5)-leakyrelu(0.01)-dense(out)", ""},
		{"mlp:5", "leakyrelu:0.2", 0, "dense(5)-leakyrelu(0.2)-dense(out)", ""},
		{"mlp:5", "tanh", 0, "dense(5)-tanh-dense(out)", ""},
		{"mlp:5", "sigmoid", 0, "dense(5)-sigmoid-dense(out)", ""},
		{"mlp:5", "gelu", 0, "dense(5)-gelu-dense(out)", ""},
		{"mlp:5", "gelu_tanh", 0, "dense(5)-gelu_tanh-dense(out)", ""},
		{"", "", 0, "", "--model: "},
		{"mlp", "", 0, "", "--model: "},
		{"mlp:", "", 0, "", "--model: "},
		{"mlp:0", "", 0, "", "--model: "},
		{"mlp:-3", "", 0, "", "--model: "},
		{"mlp:1,,2", "", 0, "", "--model: "},
		{"mlp:99999999", "", 0, "", "--model: "},
		{"mlp:2.5", "", 0, "", "--model: "},
		{"cnn:3", "", 0, "", "--model: "},
		{"linear:10", "", 0, "", "--model: "},
		{"linear", "tanh", 0, "", "--activation: "},
		{"linear", "", 0.5, "", "--dropout: "},
		{"mlp:5", "swish", 0, "", "--activation: "},
		{"mlp:5", "relu:2", 0, "", "--activation: "},
		{"mlp:5", "leakyrelu:x", 0, "", "--activation: "},
		{"mlp:5", "leakyrelu:0", 0, "", "--activation: "},
		{"mlp:5", "relu", 1, "", "--dropout: "},
		{"mlp:5", "relu", -0.1, "", "--dropout: "},
	}
	for _, tc := range cases {
		s, err := ParseSpec(tc.model, tc.act, tc.drop)
		if tc.wantErr != "" {
			if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
				t.Errorf("ParseSpec(%q, %q, %v) = %v, want an error starting %q", tc.model, tc.act, tc.drop, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseSpec(%q, %q, %v): %v", tc.model, tc.act, tc.drop, err)
			continue
		}
		if got := s.String(); got != tc.want {
			t.Errorf("ParseSpec(%q, %q, %v) = %s, want %s", tc.model, tc.act, tc.drop, got, tc.want)
		}
	}
	s, _ := ParseSpec("mlp:3", "", 0)
	if len(s.Layers) != 2 || s.Layers[0] != dense(3) || s.Layers[1] != relu {
		t.Fatalf("mlp:3 = %+v", s.Layers)
	}
}

// TestSpecJSON: a spec survives JSON and rebuilds the same net.
func TestSpecJSON(t *testing.T) {
	s, err := ParseSpec("mlp:64,32", "leakyrelu:0.3", 0.25)
	if err != nil {
		t.Fatal(err)
	}
	n, err := NewNet(s, 20, 5)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(n.Spec())
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"layers":[{"type":"dense","units":64},{"type":"leakyrelu","slope":0.3},{"type":"dropout","rate":0.25},{"type":"dense","units":32},{"type":"leakyrelu","slope":0.3},{"type":"dropout","rate":0.25}]}`
	if string(b) != want {
		t.Fatalf("JSON\n got %s\nwant %s", b, want)
	}
	var back Spec
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	m, err := NewNet(back, 20, 5)
	if err != nil {
		t.Fatal(err)
	}
	if m.Layout().String() != n.Layout().String() || back.String() != s.String() {
		t.Fatalf("rebuilt %s / %s, want %s / %s", back, m.Layout(), s, n.Layout())
	}
	// PyTorch nn.Sequential names: Linear at indices 0, 3 and 6.
	if got := n.Layout().String(); got != "0.weight[64 20] 0.bias[64] 3.weight[32 64] 3.bias[32] 6.weight[5 32] 6.bias[5] (3589 elements)" {
		t.Fatalf("layout %s", got)
	}
	if n.InDim() != 20 || n.OutDim() != 5 || n.NumParams() != 3589 {
		t.Fatalf("dims %d→%d, %d params", n.InDim(), n.OutDim(), n.NumParams())
	}
}

func TestNewNetErrors(t *testing.T) {
	cases := []struct {
		spec    Spec
		in, out int
		want    string
	}{
		{Spec{}, 0, 1, "input width"},
		{Spec{}, 3, 0, "output width"},
		{Spec{}, MaxUnits + 1, 1, "input width"},
		{Spec{Layers: []LayerSpec{{Type: "conv"}}}, 3, 1, `layer 0: unknown layer type "conv"`},
		{Spec{Layers: []LayerSpec{{Type: LayerDense}}}, 3, 1, "layer 0: dense: units"},
		{Spec{Layers: []LayerSpec{{Type: LayerReLU, Units: 3}}}, 3, 1, "layer 0: relu: units is only for dense"},
		{Spec{Layers: []LayerSpec{{Type: LayerReLU}, {Type: LayerDropout, Rate: 1}}}, 3, 1, "layer 1: dropout: rate"},
		{Spec{Layers: []LayerSpec{{Type: LayerTanh, Rate: 0.2}}}, 3, 1, "layer 0: tanh: rate is only for dropout"},
		{Spec{Layers: []LayerSpec{{Type: LayerSigmoid, Slope: 0.2}}}, 3, 1, "layer 0: sigmoid: slope is only for leakyrelu"},
		{Spec{Layers: []LayerSpec{{Type: LayerDense, Units: MaxUnits}, {Type: LayerDense, Units: MaxUnits}, {Type: LayerDense, Units: MaxUnits}}}, 3, 1, "parameters"},
	}
	for _, tc := range cases {
		_, err := NewNet(tc.spec, tc.in, tc.out)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "ops: ") {
			t.Errorf("NewNet(%+v, %d, %d) = %v, want an error containing %q", tc.spec, tc.in, tc.out, err, tc.want)
		}
	}
}

// FuzzParseSpec: ParseSpec never panics, and what it accepts builds a valid net whose
// spec renders and round-trips through JSON.
func FuzzParseSpec(f *testing.F) {
	for _, s := range []struct {
		m, a string
		d    float64
	}{{"linear", "", 0}, {"mlp:256,128", "relu", 0.1}, {"mlp:3", "leakyrelu:0.2", 0}, {"mlp:1,2,3", "gelu_tanh", 0.99}, {"mlp:,", "tanh", -1}} {
		f.Add(s.m, s.a, s.d)
	}
	f.Fuzz(func(t *testing.T, model, act string, drop float64) {
		s, err := ParseSpec(model, act, drop)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "--") {
				t.Fatalf("error %q does not name a flag", err)
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("ParseSpec(%q, %q, %v) returned an invalid spec: %v", model, act, drop, err)
		}
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back Spec
		if err := json.Unmarshal(b, &back); err != nil || back.String() != s.String() {
			t.Fatalf("JSON round trip: %s → %s (%v)", s, back, err)
		}
		if _, err := NewNet(s, 3, 2); err != nil && !strings.Contains(err.Error(), "parameters") {
			t.Fatalf("NewNet rejected a parsed spec: %v", err)
		}
	})
}

// FuzzSpecJSON: a spec read from a (corrupt) model file never panics NewNet, and a net
// that builds runs forward and backward.
func FuzzSpecJSON(f *testing.F) {
	f.Add(`{"layers":[]}`)
	f.Add(`{"layers":[{"type":"dense","units":4},{"type":"relu"},{"type":"dropout","rate":0.5}]}`)
	f.Add(`{"layers":[{"type":"softmax"},{"type":"leakyrelu","slope":-2},{"type":"gelu"},{"type":"sigmoid"},{"type":"tanh"}]}`)
	f.Add(`{"layers":[{"type":"dense","units":-1}]}`)
	f.Add(`{"layers":[{"type":"dropout","rate":1}]}`)
	f.Fuzz(func(t *testing.T, js string) {
		var s Spec
		if json.Unmarshal([]byte(js), &s) != nil {
			return
		}
		n, err := NewNet(s, 3, 2)
		if err != nil {
			return
		}
		if n.NumParams() > 1<<16 {
			return // valid but too big to run quickly
		}
		p := n.Layout().NewVector()
		for i := range p {
			p[i] = float32(i%5) - 2
		}
		ws := n.NewWorkspace(2)
		out := n.Forward(ws, p, MatrixOf([]float32{1, -2, 3, 0.5, 0, -1}, 2, 3), true, 1)
		d := NewMatrix(2, 2)
		if _, err := (CrossEntropy{}).Eval(d, out, Targets{Labels: []int32{0, 1}}, 0.5); err != nil {
			t.Fatal(err)
		}
		n.Backward(ws, p, d, make([]float32, len(p)))
	})
}
