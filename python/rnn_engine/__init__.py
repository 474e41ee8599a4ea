"""Drive the RNN ensemble engine from Python: each verb is a function whose keyword arguments are the CLI's
``--kebab-case`` flags, which streams the engine's progress lines, raises :class:`EngineError` with the engine's
one-line message on failure, and returns numpy arrays read from the files the verb writes.

>>> import rnn_engine as re
>>> r = re.train("runs/ff", task="flipflop", networks=4, hidden=32, max_epochs=200, force=True)
>>> states = re.run(r.path, trials=8).states          # [E, B, T, N]
>>> d = re.compare(r.path, metric="dsa", all=True)    # d.matrix [E, E], d.ids
"""
from ._engine import EngineError, EngineNotFound, call, find_engine, flags
from .torch_io import from_torch, model_state, read_safetensors, to_run, write_safetensors
from .verbs import (ClosedLoopResult, CompareResult, DegeneracyResult, EvalResult, FixedPointsResult,
                    NetworkFixedPoints, RunResult, StudyResult, TrainResult, closed_loop, compare, degeneracy, eval, evaluate,
                    fixed_points, read_csv, read_json, run, study, train)

__version__ = "0.1.0"

__all__ = [
    "EngineError", "EngineNotFound", "call", "find_engine", "flags",
    "from_torch", "to_run", "model_state", "read_safetensors", "write_safetensors",
    "train", "evaluate", "run", "fixed_points", "compare", "degeneracy", "study", "closed_loop",
    "TrainResult", "EvalResult", "RunResult", "FixedPointsResult", "NetworkFixedPoints", "CompareResult",
    "DegeneracyResult", "StudyResult", "ClosedLoopResult", "read_csv", "read_json",
]
