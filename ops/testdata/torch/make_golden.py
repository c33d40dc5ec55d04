"""Writes mlp_golden.json: small MLPs evaluated by PyTorch in float64.

For each case: the nn.Sequential (whose state_dict names ops' Layout must reproduce),
input x, flat parameters in state_dict order, the loss configuration and targets,
and PyTorch's outputs, mean-reduced loss, and gradients of that loss with respect to
the parameters (flat, same order) and to x. Rerun with Debian's python3-torch:
    /usr/bin/python3 make_golden.py
It is deterministic (seeded) and writes next to itself.
"""
import json, os
import torch
import torch.nn as nn

torch.set_default_dtype(torch.float64)
torch.manual_seed(1234)

ACT = {
    "relu": lambda: nn.ReLU(),
    "leakyrelu": lambda: nn.LeakyReLU(0.2),
    "tanh": lambda: nn.Tanh(),
    "sigmoid": lambda: nn.Sigmoid(),
    "gelu": lambda: nn.GELU(),
    "gelu_tanh": lambda: nn.GELU(approximate="tanh"),
    "softmax": lambda: nn.Softmax(dim=1),
}
SPEC = {  # ops.LayerSpec JSON of each activation
    "relu": {"type": "relu"}, "leakyrelu": {"type": "leakyrelu", "slope": 0.2},
    "tanh": {"type": "tanh"}, "sigmoid": {"type": "sigmoid"}, "gelu": {"type": "gelu"},
    "gelu_tanh": {"type": "gelu_tanh"}, "softmax": {"type": "softmax"},
}


def case(name, acts, hidden, d_in, d_out, batch, loss):
    layers, spec, w = [], [], d_in
    for h, a in zip(hidden, acts):
        layers += [nn.Linear(w, h), ACT[a]()]
        spec += [{"type": "dense", "units": h}, SPEC[a]]
        w = h
    layers.append(nn.Linear(w, d_out))
    model = nn.Sequential(*layers)
    x = torch.randn(batch, d_in, requires_grad=True)
    out = model(x)
    rec = {"name": name, "spec": {"layers": spec}, "in": d_in, "out": d_out, "loss": loss}
    if loss.startswith("crossentropy"):
        smoothing = float(loss.split(":")[1]) if ":" in loss else 0.0
        y = torch.randint(0, d_out, (batch,))
        value = nn.CrossEntropyLoss(label_smoothing=smoothing)(out, y)
        rec["labels"] = y.tolist()
    elif loss == "bce":
        y = torch.randint(0, 2, (batch, 1))
        value = nn.BCEWithLogitsLoss()(out, y.double())
        rec["labels"] = y[:, 0].tolist()
    elif loss == "hinge":
        y = torch.randint(0, 2, (batch, 1))
        value = torch.clamp(1 - (2 * y.double() - 1) * out, min=0).mean()
        rec["labels"] = y[:, 0].tolist()
    elif loss == "mse":
        t = torch.randn(batch, d_out)
        value = nn.MSELoss()(out, t)
        rec["targets"] = t.flatten().tolist()
    elif loss.startswith("huber"):
        t = 2 * torch.randn(batch, d_out)
        value = nn.HuberLoss(delta=float(loss.split(":")[1]))(out, t)
        rec["targets"] = t.flatten().tolist()
    value.backward()
    sd = model.state_dict()
    rec["names"] = list(sd.keys())
    rec["x"] = x.detach().flatten().tolist()
    rec["params"] = [v for k in sd for v in sd[k].flatten().tolist()]
    rec["outputs"] = out.detach().flatten().tolist()
    rec["loss_mean"] = value.item()
    rec["grads"] = [v for p in model.parameters() for v in p.grad.flatten().tolist()]
    rec["dx"] = x.grad.flatten().tolist()
    return rec


cases = [
    case("relu_ce", ["relu", "relu"], [7, 5], 6, 4, 5, "crossentropy"),
    case("leakyrelu_ce_smoothing", ["leakyrelu", "leakyrelu"], [8, 6], 5, 3, 4, "crossentropy:0.1"),
    case("tanh_mse", ["tanh", "tanh"], [9, 4], 3, 2, 6, "mse"),
    case("sigmoid_bce", ["sigmoid", "sigmoid"], [5, 5], 4, 1, 7, "bce"),
    case("gelu_huber", ["gelu", "gelu"], [6, 7], 5, 3, 3, "huber:0.7"),
    case("gelu_tanh_hinge", ["gelu_tanh", "gelu_tanh"], [4, 3], 6, 1, 8, "hinge"),
    case("softmax_ce_batch1", ["softmax", "tanh"], [5, 4], 3, 3, 1, "crossentropy:0.2"),
]
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mlp_golden.json")
with open(path, "w") as f:
    json.dump({"torch": torch.__version__, "dtype": "float64", "cases": cases}, f, indent=1)
print("wrote", path)
