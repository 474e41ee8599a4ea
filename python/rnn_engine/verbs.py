"""The engine's verbs as functions returning numpy arrays and parsed JSON."""
from __future__ import annotations

import csv
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

import numpy as np

from ._engine import Progress, call

PathLike = Union[str, os.PathLike]

__all__ = [
    "train", "eval", "evaluate", "run", "fixed_points", "compare", "degeneracy", "study", "closed_loop",
    "TrainResult", "EvalResult", "RunResult", "FixedPointsResult", "NetworkFixedPoints", "CompareResult",
    "DegeneracyResult", "StudyResult", "ClosedLoopResult", "read_csv", "read_json",
]


def read_json(path: PathLike) -> Any:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _parse(cell: str):
    if cell == "":
        return np.nan
    try:
        return int(cell)
    except ValueError:
        try:
            return float(cell)
        except ValueError:
            return cell


def read_csv(path: PathLike) -> Dict[str, np.ndarray]:
    """A CSV file with a header row as column name → numpy array (ints, floats with empty cells as NaN, or strings)."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if not rows:
        return {}
    header, body = rows[0], rows[1:]
    out: Dict[str, np.ndarray] = {}
    for j, name in enumerate(header):
        col = [_parse(r[j]) if j < len(r) else np.nan for r in body]
        if all(isinstance(v, int) for v in col):
            out[name] = np.array(col, dtype=np.int64)
        elif all(isinstance(v, (int, float)) for v in col):
            out[name] = np.array(col, dtype=np.float64)
        else:
            out[name] = np.array([str(v) for v in col])
    return out


def _out_dir(out: Optional[PathLike], prefix: str) -> Path:
    return Path(out) if out is not None else Path(tempfile.mkdtemp(prefix=f"rnn_engine_{prefix}_"))


# ---------------------------------------------------------------------------------------------------------- train


@dataclass
class TrainResult:
    path: Path
    summary: Dict[str, Any]
    config: Dict[str, Any]
    log: List[str] = field(repr=False, default_factory=list)

    @property
    def checkpoint(self) -> Path:
        return self.path / "checkpoint.rnn"

    @property
    def final_loss(self) -> np.ndarray:
        """Final training loss per network, [E]."""
        return np.array([np.nan if n["final_loss"] is None else n["final_loss"] for n in self.summary["per_network"]])

    @property
    def status(self) -> List[str]:
        return [n["status"] for n in self.summary["per_network"]]

    def metrics(self) -> Dict[str, np.ndarray]:
        """metrics.csv: network, epoch, loss, learning_rate as arrays."""
        return read_csv(self.path / "metrics.csv")


def train(out: Optional[PathLike] = None, *, resume: Optional[PathLike] = None, progress: Progress = None,
          **kwargs) -> TrainResult:
    """``engine train --out OUT --task … --networks … --hidden … [--force]`` (or ``resume=DIR``); every keyword is a
    flag (``max_epochs=50`` → ``--max-epochs 50``). Returns summary.json and config.json parsed, and the run dir."""
    if (out is None) == (resume is None):
        raise ValueError("give exactly one of out= or resume=")
    path = Path(resume if resume is not None else out)
    log = call("train", progress=progress, out=out, resume=resume, **kwargs)
    return TrainResult(path, read_json(path / "summary.json"), read_json(path / "config.json"), log)


# ---------------------------------------------------------------------------------------------------------- eval


@dataclass
class EvalResult:
    path: Path
    summary: Dict[str, Any]
    table: Dict[str, np.ndarray]

    @property
    def id_mse(self) -> np.ndarray:
        return self.table["id_mse"]

    @property
    def ood_mse(self) -> np.ndarray:
        return self.table["ood_mse"]


def eval(run_dir: PathLike, *, progress: Progress = None, **kwargs) -> EvalResult:  # noqa: A001 (the verb's name)
    """``engine eval --ood RUN_DIR [--trials 64]``: eval.json parsed and eval.csv as arrays (network, seed, status,
    id_mse, ood_mse)."""
    path = Path(run_dir)
    call("eval", progress=progress, ood=path, **kwargs)
    return EvalResult(path, read_json(path / "eval.json"), read_csv(path / "eval.csv"))


evaluate = eval  # the same verb without shadowing the builtin in `from rnn_engine import *`


# ---------------------------------------------------------------------------------------------------------- run


@dataclass
class RunResult:
    path: Path
    states: np.ndarray   # [E, B, T, N]
    outputs: np.ndarray  # [E, B, T, O]
    inputs: np.ndarray   # [B, T, I]
    targets: np.ndarray  # [B, T, O]
    mask: np.ndarray     # [B, T, O]
    info: Dict[str, Any]

    @property
    def mse(self) -> np.ndarray:
        return np.array([np.nan if m is None else m for m in self.info["mse"]])


def run(source: PathLike, out: Optional[PathLike] = None, *, progress: Progress = None, **kwargs) -> RunResult:
    """``engine run SOURCE --out OUT [--trials 16] [--steps T] [--seed S]``: every network on the same fresh trials.
    OUT defaults to a new temporary folder."""
    path = _out_dir(out, "run")
    call("run", source, progress=progress, out=path, **kwargs)
    load = lambda name: np.load(path / f"{name}.npy")
    return RunResult(path, load("states"), load("outputs"), load("inputs"), load("targets"), load("mask"),
                     read_json(path / "run.json"))


# ---------------------------------------------------------------------------------------------------------- fixed points


@dataclass
class NetworkFixedPoints:
    network: int
    points: np.ndarray         # [P, N] float64, sorted by q
    q: np.ndarray              # [P]
    stable: np.ndarray         # [P] bool
    saddle_index: np.ndarray   # [P] int32, number of unstable directions
    eigenvalues: np.ndarray    # [P, N, 2] (real, imaginary), by decreasing modulus
    eigenvectors: Optional[np.ndarray]      # [P, N, K, 2]
    jacobians: Optional[np.ndarray]         # [P, N, N]
    input_jacobians: Optional[np.ndarray]   # [P, N, I]
    seed_q: np.ndarray         # [S]
    seed_status: np.ndarray    # [S] int32: 1 converged, 2 max iterations, 3 non-finite
    info: Dict[str, Any]       # this network's entry of fixed_points.json

    @property
    def eigenvalues_complex(self) -> np.ndarray:
        """[P, N] complex."""
        return self.eigenvalues[..., 0] + 1j * self.eigenvalues[..., 1]

    @property
    def eigenvectors_complex(self) -> Optional[np.ndarray]:
        return None if self.eigenvectors is None else self.eigenvectors[..., 0] + 1j * self.eigenvectors[..., 1]


@dataclass
class FixedPointsResult:
    path: Path
    summary: Dict[str, Any]
    networks: List[NetworkFixedPoints]

    def __getitem__(self, i: int) -> NetworkFixedPoints:
        return self.networks[i]

    def __len__(self) -> int:
        return len(self.networks)

    def census(self) -> Dict[str, np.ndarray]:
        return read_csv(self.path / "census.csv")


def _load_fixed_points(path: Path) -> FixedPointsResult:
    summary = read_json(path / "fixed_points.json")
    nets: List[NetworkFixedPoints] = []
    for entry in summary.get("networks", []):
        e = int(entry["network"])
        sub = path / f"network_{e:03d}"
        if not sub.is_dir():  # a diverged network has no arrays
            continue
        opt = lambda name: np.load(sub / f"{name}.npy") if (sub / f"{name}.npy").is_file() else None
        nets.append(NetworkFixedPoints(
            e, np.load(sub / "points.npy"), np.load(sub / "q.npy"), np.load(sub / "stable.npy"),
            np.load(sub / "saddle_index.npy"), opt("eigenvalues"), opt("eigenvectors"), opt("jacobians"),
            opt("input_jacobians"), np.load(sub / "seed_q.npy"), np.load(sub / "seed_status.npy"), entry))
    return FixedPointsResult(path, summary, nets)


def fixed_points(source: PathLike, out: Optional[PathLike] = None, *, progress: Progress = None,
                 **kwargs) -> FixedPointsResult:
    """``engine fixed-points SOURCE [--seeds 256] [--input …] [--rounds 3] …`` on a run directory, a checkpoint or a
    PyTorch nn.RNN + nn.Linear ``.safetensors``/``.npz`` (see :func:`from_torch`). OUT defaults to the engine's
    default (SOURCE/fixed-points, or FILE.fixed-points)."""
    src = Path(source)
    if kwargs.get("activation") is None:
        from .torch_io import model_activation
        act = model_activation(src)
        if act and act != "tanh":
            kwargs["activation"] = act
    path = Path(out) if out is not None else (src / "fixed-points" if src.is_dir() else Path(str(src) + ".fixed-points"))
    call("fixed-points", src, progress=progress, out=path, **kwargs)
    return _load_fixed_points(path)


# ---------------------------------------------------------------------------------------------------------- compare


@dataclass
class CompareResult:
    path: Path
    metric: str
    matrix: np.ndarray   # [E, E] distances
    ids: np.ndarray      # [E] network ids (rows and columns of matrix)
    summary: Dict[str, Any]
    extra: Dict[str, np.ndarray] = field(default_factory=dict)  # DSA: dsa_{angular,euclidean,wasserstein}; pif: pif_permutations

    @property
    def mean(self) -> float:
        return self.summary["mean"]


def _matrix(path: Path, stem: str):
    matrix = np.load(path / f"{stem}.npy")
    table = read_csv(path / f"{stem}.csv")
    ids = table["network"] if "network" in table else np.arange(matrix.shape[0])
    return matrix, ids


def _compare_stem(metric: str, score: Optional[str]) -> str:
    return f"dsa_{score or 'angular'}" if metric == "dsa" else metric


def compare(run_dir: PathLike, metric: str = "cka", out: Optional[PathLike] = None, *, progress: Progress = None,
            **kwargs) -> CompareResult:
    """``engine compare RUN_DIR --metric cka|shape|dsa|pif|behavior [--all] …``: the E × E distance matrix (METRIC.npy)
    with the network ids (METRIC.csv) and METRIC_summary.json.

    ``run_dir`` may also be a list of live models (``(nn.RNN, nn.Linear)`` pairs, dicts of arrays, or files from
    :func:`from_torch`) with ``like=`` an engine run of the same sizes and task: they are written as one run (see
    :func:`rnn_engine.to_run`) in a temporary folder and compared with ``all=True``."""
    if isinstance(run_dir, (list, tuple)):
        from .torch_io import to_run
        like = kwargs.pop("like", None)
        if like is None:
            raise ValueError("comparing a list of models needs like=RUN_DIR (an engine run with the same sizes and task)")
        run_dir = to_run(run_dir, like, tempfile.mkdtemp(prefix="rnn_engine_models_"))
        kwargs.setdefault("all", True)
    path = Path(out) if out is not None else Path(run_dir) / "distances"
    call("compare", run_dir, progress=progress, metric=metric, out=path, **kwargs)
    stem = _compare_stem(metric, kwargs.get("score"))
    matrix, ids = _matrix(path, stem)
    extra = {}
    names = ["dsa_angular", "dsa_euclidean", "dsa_wasserstein"] if metric == "dsa" else ["pif_permutations"] if metric == "pif" else []
    for name in names:
        if (path / f"{name}.npy").is_file():
            extra[name] = np.load(path / f"{name}.npy")
    return CompareResult(path, metric, matrix, ids, read_json(path / f"{stem}_summary.json"), extra)


# ---------------------------------------------------------------------------------------------------------- degeneracy


@dataclass
class DegeneracyResult:
    path: Path
    summary: Dict[str, Any]                       # degeneracy.json
    matrices: Dict[str, CompareResult]            # behavior, dsa_<score>, pif

    @property
    def sigma_ood(self) -> Optional[float]:
        return self.summary["behavioral"]["sigma_ood"]

    @property
    def mean_dsa(self) -> Optional[float]:
        return self.summary["dynamical"]["mean_dsa"]

    @property
    def mean_pif(self) -> Optional[float]:
        return self.summary["weight"]["mean_pif"]


def degeneracy(run_dir: PathLike, out: Optional[PathLike] = None, *, progress: Progress = None,
               **kwargs) -> DegeneracyResult:
    """``engine degeneracy RUN_DIR``: behavioural σ_OOD and output distances, DSA, d_PIF; degeneracy.json parsed and
    the three matrices."""
    path = Path(out) if out is not None else Path(run_dir) / "distances"
    call("degeneracy", run_dir, progress=progress, out=path, **kwargs)
    matrices = {}
    for metric in ("behavior", "dsa", "pif"):
        stem = _compare_stem(metric, kwargs.get("score"))
        if (path / f"{stem}.npy").is_file():
            m, ids = _matrix(path, stem)
            s = path / f"{stem}_summary.json"
            matrices[stem] = CompareResult(path, metric, m, ids, read_json(s) if s.is_file() else {})
    return DegeneracyResult(path, read_json(path / "degeneracy.json"), matrices)


# ---------------------------------------------------------------------------------------------------------- study


@dataclass
class StudyResult:
    action: str
    path: Optional[Path]
    log: List[str]
    plan: Optional[Dict[str, Any]] = None     # DIR/plan.json
    report: Optional[Dict[str, Any]] = None   # DIR/report/study.json

    def table(self, name: str) -> Dict[str, np.ndarray]:
        """A report CSV (conditions, networks, pairs, trends, timings) as arrays."""
        return read_csv(self.path / "report" / f"{name}.csv")


def study(action: str, target: PathLike, *, progress: Progress = None, **kwargs) -> StudyResult:
    """``engine study validate|plan|run|merge|estimate TARGET …``: ``study("plan", "cfg.json", out="st")``,
    ``study("run", "st")``, ``study("merge", "st")``, ``study("estimate", "cfg.json", from_="st")``.
    Returns the study folder's plan.json and report/study.json where they exist."""
    log = call(["study", action], target, progress=progress, **kwargs)
    folder = Path(kwargs["out"]) if action == "plan" else Path(target) if action in ("run", "merge") else None
    res = StudyResult(action, folder, log)
    if folder is not None:
        if (folder / "plan.json").is_file():
            res.plan = read_json(folder / "plan.json")
        if (folder / "report" / "study.json").is_file():
            res.report = read_json(folder / "report" / "study.json")
    return res


# ---------------------------------------------------------------------------------------------------------- closed loop


@dataclass
class ClosedLoopResult:
    path: Path
    summary: Any                         # summary.json: one entry per agent
    metrics: Dict[str, np.ndarray]       # metrics.csv
    eigenvalues: Dict[str, np.ndarray]   # eigenvalues.csv

    def frequencies(self) -> Optional[Dict[str, np.ndarray]]:
        p = self.path / "frequencies.csv"
        return read_csv(p) if p.is_file() else None


def closed_loop(out: Optional[PathLike] = None, *, progress: Progress = None, **kwargs) -> ClosedLoopResult:
    """``engine closed-loop --plant … --mode closed|open [--preset …] --out OUT``; OUT defaults to a temporary folder."""
    path = _out_dir(out, "closed_loop")
    call("closed-loop", progress=progress, out=path, **kwargs)
    return ClosedLoopResult(path, read_json(path / "summary.json"), read_csv(path / "metrics.csv"),
                            read_csv(path / "eigenvalues.csv"))
