"""Train a small flip-flop ensemble, compute its dynamical degeneracy (pairwise DSA through `compare`) and plot the
distance matrix as a heatmap.

    PYTHONPATH=python python3 python/examples/degeneracy_heatmap.py [--out runs/py-heatmap] [--networks 6]

The heatmap needs matplotlib; without it the script prints the matrix and says so.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing
import numpy as np  # noqa: E402

import rnn_engine as re  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="runs/py-heatmap")
    ap.add_argument("--networks", type=int, default=6)
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--max-epochs", type=int, default=1500)
    ap.add_argument("--metric", default="dsa", help="cka, shape, dsa, pif or behavior")
    args = ap.parse_args()

    run = re.train(args.out, task="flipflop", bits=3, networks=args.networks, hidden=args.hidden,
                   max_epochs=args.max_epochs, force=True)
    print(f"trained {run.summary['converged']}/{run.summary['networks']} to threshold; final losses {np.round(run.final_loss, 5)}")

    d = re.compare(run.path, metric=args.metric, all=True)  # --all: include networks that did not converge
    print(f"{args.metric}: mean {d.mean:.4g} over {len(d.ids)} networks ({d.summary['degeneracy']['level']})")
    print(np.array2string(d.matrix, precision=3))

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: skipped the heatmap (pip install matplotlib, or apt-get install python3-matplotlib)")
        return

    fig, ax = plt.subplots(figsize=(5, 4.2))
    im = ax.imshow(d.matrix, cmap="viridis")
    ax.set_xticks(range(len(d.ids)), [str(i) for i in d.ids])
    ax.set_yticks(range(len(d.ids)), [str(i) for i in d.ids])
    ax.set_xlabel("network")
    ax.set_ylabel("network")
    ax.set_title(f"{args.metric} distances, mean {d.mean:.3g}")
    fig.colorbar(im, ax=ax)
    fig.tight_layout()
    png = Path(args.out) / f"{args.metric}_heatmap_py.png"
    fig.savefig(png, dpi=120)
    print(f"wrote {png}")


if __name__ == "__main__":
    main()
