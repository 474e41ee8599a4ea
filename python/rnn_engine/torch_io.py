"""PyTorch nn.RNN + nn.Linear (or numpy arrays) to the .safetensors/.npz files the engine imports.

The engine (src/Engine.Managed/IO/Import/PyTorchRnnImport.cs) wants one-layer ``<prefix>weight_ih_l0`` [N, I],
``<prefix>weight_hh_l0`` [N, N], optional ``bias_ih_l0``/``bias_hh_l0`` [N], and a readout ``<name>.weight`` [O, N]
(+ ``<name>.bias`` [O]) whose module name is e.g. ``readout``. Writing safetensors needs no library: an 8-byte
little-endian header length, the header JSON, then the raw little-endian tensor bytes."""
from __future__ import annotations

import json
import os
import struct
import tempfile
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Tuple, Union

import numpy as np

PathLike = Union[str, os.PathLike]

RNN_PREFIX = "rnn."
READOUT_PREFIX = "readout."
RNN_KEYS = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
READOUT_KEYS = ("weight", "bias")

_DTYPES = {np.dtype("float64"): "F64", np.dtype("float32"): "F32", np.dtype("float16"): "F16",
           np.dtype("int64"): "I64", np.dtype("int32"): "I32", np.dtype("int16"): "I16", np.dtype("int8"): "I8",
           np.dtype("uint8"): "U8", np.dtype("bool"): "BOOL"}
_NP = {v: k for k, v in _DTYPES.items()}


def write_safetensors(path: PathLike, tensors: Mapping[str, np.ndarray], metadata: Optional[Dict[str, str]] = None) -> Path:
    """Writes numpy arrays as a .safetensors file (C order, little-endian)."""
    header: Dict[str, Any] = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name, arr in tensors.items():
        a = np.asarray(arr)
        if a.dtype not in _DTYPES:
            raise TypeError(f"{name}: dtype {a.dtype} has no safetensors code")
        raw = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": _DTYPES[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    path = Path(path)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    return path


def read_safetensors(path: PathLike) -> Tuple[Dict[str, np.ndarray], Dict[str, str]]:
    """Reads a .safetensors file into numpy arrays (BF16 is widened to float32); returns (tensors, metadata)."""
    data = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {}) or {}
    body = data[8 + n:]
    out: Dict[str, np.ndarray] = {}
    for name, e in header.items():
        lo, hi = e["data_offsets"]
        if e["dtype"] == "BF16":
            a = (np.frombuffer(body[lo:hi], dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            a = np.frombuffer(body[lo:hi], dtype=_NP[e["dtype"]].newbyteorder("<"))
        out[name] = a.reshape(e["shape"]).copy()
    return out, meta


def _to_numpy(t) -> np.ndarray:
    if isinstance(t, np.ndarray):
        return t
    if hasattr(t, "detach"):  # torch.Tensor
        t = t.detach().cpu()
        if str(t.dtype) == "torch.bfloat16":
            t = t.float()
        return t.numpy()
    return np.asarray(t)


def _state(obj, prefix: str, keys) -> Dict[str, np.ndarray]:
    """The parameters of a module (state_dict) or a mapping, under ``prefix`` with only the known keys."""
    if obj is None:
        return {}
    sd = obj.state_dict() if hasattr(obj, "state_dict") else dict(obj)
    out = {}
    for k, v in sd.items():
        short = k.split(".")[-1]
        if short in keys:
            out[prefix + short] = _to_numpy(v)
    return out


def model_state(rnn, linear=None) -> Tuple[Dict[str, np.ndarray], Dict[str, str]]:
    """The tensors and metadata :func:`from_torch` writes. ``rnn`` is an nn.RNN or a dict of arrays with
    ``weight_ih_l0``, ``weight_hh_l0``, [``bias_ih_l0``, ``bias_hh_l0``] (or a whole dict with ``rnn.*`` and
    ``readout.*``/``fc.*`` keys when ``linear`` is None); ``linear`` an nn.Linear or a dict with ``weight``, [``bias``]."""
    meta: Dict[str, str] = {}
    if hasattr(rnn, "num_layers"):
        if rnn.num_layers != 1 or getattr(rnn, "bidirectional", False) or type(rnn).__name__ != "RNN":
            raise ValueError("only a one-layer, unidirectional nn.RNN is supported")
        meta["nonlinearity"] = getattr(rnn, "nonlinearity", "tanh")
    elif isinstance(rnn, Mapping) and "nonlinearity" in rnn:
        rnn = dict(rnn)
        meta["nonlinearity"] = str(rnn.pop("nonlinearity"))
    if linear is None and isinstance(rnn, Mapping):
        rnn_part = {k: v for k, v in rnn.items() if k.split(".")[-1] in RNN_KEYS}
        lin_part = {k: v for k, v in rnn.items() if k.split(".")[-1] in READOUT_KEYS}
        tensors = {**_state(rnn_part, RNN_PREFIX, RNN_KEYS), **_state(lin_part, READOUT_PREFIX, READOUT_KEYS)}
    else:
        tensors = {**_state(rnn, RNN_PREFIX, RNN_KEYS), **_state(linear, READOUT_PREFIX, READOUT_KEYS)}
    for need in (RNN_PREFIX + "weight_ih_l0", RNN_PREFIX + "weight_hh_l0", READOUT_PREFIX + "weight"):
        if need not in tensors:
            raise ValueError(f"missing {need.split('.')[-1]} (have {sorted(tensors)})")
    return tensors, meta


def from_torch(rnn, linear=None, path: Optional[PathLike] = None) -> Path:
    """Writes an nn.RNN + nn.Linear (or numpy arrays, see :func:`model_state`) to ``path`` (default: a new
    temporary ``.safetensors``; a ``.npz`` path writes an npz) with the names the engine's importer expects, and
    returns the path, ready for ``fixed_points(path)``. The nn.RNN's nonlinearity is kept in the safetensors
    metadata; :func:`rnn_engine.fixed_points` passes ``--activation relu`` for it."""
    tensors, meta = model_state(rnn, linear)
    if path is None:
        fd, name = tempfile.mkstemp(prefix="rnn_engine_model_", suffix=".safetensors")
        os.close(fd)
        path = Path(name)
    path = Path(path)
    if path.suffix == ".npz":
        np.savez(path, **tensors)
    else:
        write_safetensors(path, tensors, meta)
    return path


def model_activation(path: PathLike) -> Optional[str]:
    """The nonlinearity stored by :func:`from_torch` in a .safetensors file's metadata, if any."""
    p = Path(path)
    if p.suffix != ".safetensors" or not p.is_file():
        return None
    try:
        with open(p, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(n).decode("utf-8"))
        return (header.get("__metadata__") or {}).get("nonlinearity")
    except (OSError, ValueError, struct.error):
        return None


# ---------------------------------------------------------------------------------------------------------- run dirs

_MAGIC = b"RNNCKPT\0"


def _read_checkpoint(path: Path):
    data = path.read_bytes()
    if data[:8] != _MAGIC:
        raise ValueError(f"{path}: not an engine checkpoint")
    (n,) = struct.unpack("<I", data[12:16])
    return json.loads(data[16:16 + n].decode("utf-8"))


def _load_model(m) -> Tuple[Dict[str, np.ndarray], Dict[str, str]]:
    if isinstance(m, (str, os.PathLike)):
        p = Path(m)
        if p.suffix == ".npz":
            with np.load(p) as z:
                return model_state(dict(z))
        tensors, meta = read_safetensors(p)
        state, _ = model_state(tensors)
        return state, meta
    if isinstance(m, tuple):
        return model_state(*m)
    return model_state(m)


def to_run(models, like: PathLike, out: PathLike, status: str = "not_converged") -> Path:
    """Writes several nn.RNN + nn.Linear models (``(rnn, linear)`` pairs, dicts as :func:`model_state` takes, or
    files from :func:`from_torch`) as one engine run directory ``out/checkpoint.rnn``, so that ``compare``,
    ``degeneracy``, ``run`` and ``fixed_points`` see them as an ensemble. ``like`` is a run directory (or checkpoint)
    of the engine with the same hidden size, inputs and outputs: its task (which makes the probe trials) and
    training options are reused. The networks are recorded with ``status`` (default not_converged, so pass
    ``all=True`` to compare, which :func:`rnn_engine.compare` does for a list of models)."""
    like = Path(like)
    header = _read_checkpoint(like / "checkpoint.rnn" if like.is_dir() else like)
    spec = dict(header["spec"])
    if header.get("factor_length", 0) != 0 or spec.get("cell") != "discrete" or spec.get("initial_state") != "zero":
        raise ValueError(f"{like}: the template must be a full-rank run of the discrete cell with a zero initial state")
    states = [_load_model(m) for m in models]
    if not states:
        raise ValueError("no models")
    n, i, o = spec["hidden"], spec["inputs"], spec["outputs"]
    acts = {meta.get("nonlinearity", "tanh") for _, meta in states}
    if len(acts) != 1:
        raise ValueError(f"the models mix nonlinearities {sorted(acts)}")
    entries = {e["name"]: e for e in header["entries"]}
    stride = header["stride"]
    params = np.zeros((len(states), stride), dtype=np.float32)
    for k, (t, _) in enumerate(states):
        w, u = t[RNN_PREFIX + "weight_hh_l0"], t[RNN_PREFIX + "weight_ih_l0"]
        c = t[READOUT_PREFIX + "weight"]
        if w.shape != (n, n) or u.shape != (n, i) or c.shape != (o, n):
            raise ValueError(f"model {k}: W_hh {w.shape}, W_ih {u.shape}, readout {c.shape}; the template {like} has "
                             f"N={n}, I={i}, O={o}")
        b = np.zeros(n)
        for name in ("bias_ih_l0", "bias_hh_l0"):
            if RNN_PREFIX + name in t:
                b = b + t[RNN_PREFIX + name].astype(np.float64)
        d = t.get(READOUT_PREFIX + "bias", np.zeros(o))
        for name, value in (("W", w), ("U", u), ("b", b), ("C", c), ("d", d)):
            e = entries[name]
            params[k, e["offset"]:e["offset"] + e["length"]] = np.asarray(value, dtype=np.float32).ravel()
    E = len(states)
    spec["networks"] = E
    spec["activation"] = acts.pop()
    record = dict(header["records"][0], status=status, epochs=0, since_threshold=-1, bad_epochs=0, lr_scale=1)
    options = dict(header.get("options") or {})
    for key, value in list(options.items()):
        if isinstance(value, list):
            options[key] = None  # per-network settings of the template's networks
    new = dict(header, networks=E, spec=spec, options=options, seeds=list(range(E)), records=[dict(record) for _ in range(E)],
               weight_change=None, kernel_alignment=None)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    h = json.dumps(new, indent=2).encode("utf-8")
    p = params.astype("<f4").tobytes()
    body = _MAGIC + struct.pack("<II", 1, len(h)) + h + p + bytes(2 * len(p)) + p
    import hashlib
    (out / "checkpoint.rnn").write_bytes(body + hashlib.sha256(body).digest())
    return out
