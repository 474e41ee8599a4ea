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
