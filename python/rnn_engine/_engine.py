"""Finding the engine and running one verb: flags from keyword arguments, streamed progress, errors as exceptions."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Callable, Iterable, List, Optional, Sequence, Union

ENV_VAR = "RNN_ENGINE"
BUILT_BINARY = Path("src", "Engine.Cli", "bin", "Release", "net10.0", "engine")
CLI_PROJECT = Path("src", "Engine.Cli")

Progress = Union[None, bool, Callable[[str], None]]


class EngineError(RuntimeError):
    """The engine exited non-zero. ``message`` is its one-line error (``error: `` stripped), ``returncode`` its exit
    code, ``stderr`` everything it wrote to stderr, ``command`` the argument list that was run."""

    def __init__(self, message: str, returncode: int, stderr: str = "", command: Optional[Sequence[str]] = None):
        super().__init__(message)
        self.message = message
        self.returncode = returncode
        self.stderr = stderr
        self.command = list(command or [])

    def __str__(self) -> str:
        return f"{self.message} (engine exit code {self.returncode})"


class EngineNotFound(EngineError):
    """No engine could be located."""

    def __init__(self, message: str):
        super().__init__(message, -1)


def _find_checkout(start: Path) -> Optional[Path]:
    for d in [start, *start.parents]:
        if (d / "Engine.sln").is_file() and (d / CLI_PROJECT).is_dir():
            return d
    return None


def _checkout_command(root: Path) -> Optional[List[str]]:
    """A checkout's built Release binary, else ``dotnet run`` of its CLI project (None without dotnet)."""
    built = root / BUILT_BINARY
    if built.is_file() and os.access(built, os.X_OK):
        return [str(built)]
    dotnet = shutil.which("dotnet")
    if dotnet:
        return [dotnet, "run", "--project", str(root / CLI_PROJECT), "-c", "Release", "--"]
    return None


def find_engine() -> List[str]:
    """The command prefix that runs the engine, in this order: ``$RNN_ENGINE``; an ``engine`` on PATH; the checkout
    holding this package or the working directory (its built Release binary, else ``dotnet run``)."""
    env = os.environ.get(ENV_VAR)
    if env:
        p = Path(env).expanduser()
        if not p.exists() and shutil.which(env) is None:
            raise EngineNotFound(f"{ENV_VAR}={env} does not exist")
        return [str(p) if p.exists() else shutil.which(env)]
    on_path = shutil.which("engine")
    if on_path:
        return [on_path]
    for start in (Path(__file__).resolve().parent, Path.cwd().resolve()):
        root = _find_checkout(start)
        cmd = _checkout_command(root) if root is not None else None
        if cmd:
            return cmd
    raise EngineNotFound(
        f"engine not found: set {ENV_VAR} to the engine binary, put 'engine' on PATH "
        "(dotnet tool install or a publish), or run inside a checkout of the engine with the .NET SDK installed")


def _flag_value(value) -> str:
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (list, tuple)) or (hasattr(value, "tolist") and hasattr(value, "ndim")):
        items = value.tolist() if hasattr(value, "tolist") else value
        return ",".join(_flag_value(v) for v in items)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def flags(**kwargs) -> List[str]:
    """``--kebab-case`` flags from keyword arguments: True is a bare flag, False and None leave the flag out,
    lists and tuples are comma-joined; a trailing underscore is dropped (``from_=`` → ``--from``)."""
    out: List[str] = []
    for name, value in kwargs.items():
        if value is None or value is False:
            continue
        flag = "--" + name.rstrip("_").replace("_", "-")
        if value is True:
            out.append(flag)
        else:
            out.extend([flag, _flag_value(value)])
    return out


def _sink(progress: Progress) -> Optional[Callable[[str], None]]:
    if progress is False:
        return None
    if progress is None or progress is True:
        return lambda line: (sys.stderr.write(line + "\n"), sys.stderr.flush())
    return progress


def _error_line(stderr: str, stdout_tail: Iterable[str]) -> str:
    lines = [l.strip() for l in stderr.splitlines() if l.strip()]
    errors = [l for l in lines if l.startswith("error:")]
    line = errors[-1] if errors else (lines[-1] if lines else "")
    if not line:
        tail = [l.strip() for l in stdout_tail if l.strip()]
        line = tail[-1] if tail else "the engine failed without a message"
    return line[len("error:"):].strip() if line.startswith("error:") else line


def call(verb: Union[str, Sequence[str]], *args, progress: Progress = None, **kwargs) -> List[str]:
    """Runs ``engine VERB ARGS --flags``; each stdout and stderr line goes to ``progress`` (a callable; None writes
    to sys.stderr, False discards). Returns the stdout lines; raises EngineError on a non-zero exit."""
    cmd = find_engine() + ([verb] if isinstance(verb, str) else list(verb))
    cmd += [_flag_value(a) for a in args] + flags(**kwargs)
    sink = _sink(progress)
    env = dict(os.environ, DOTNET_CLI_TELEMETRY_OPTOUT="1", DOTNET_NOLOGO="1")
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                text=True, encoding="utf-8", errors="replace", bufsize=1, env=env)
    except OSError as e:
        raise EngineNotFound(f"cannot start the engine {cmd[0]}: {e}") from e
    err_lines: List[str] = []
    lock = threading.Lock()

    def read_stderr():
        for line in proc.stderr:
            line = line.rstrip("\n")
            err_lines.append(line)
            if sink:
                with lock:
                    sink(line)

    t = threading.Thread(target=read_stderr, daemon=True)
    out_lines: List[str] = []
    with proc:
        t.start()
        try:
            for line in proc.stdout:
                line = line.rstrip("\n")
                out_lines.append(line)
                if sink:
                    with lock:
                        sink(line)
            rc = proc.wait()
        except KeyboardInterrupt:
            proc.terminate()  # the engine checkpoints on SIGTERM and exits 130
            proc.wait()
            raise
        t.join()
    if rc != 0:
        stderr = "\n".join(err_lines)
        raise EngineError(_error_line(stderr, out_lines[-3:]), rc, stderr, cmd)
    return out_lines
