"""The run's pictures: loss.png of a training run, and the saturation and reach of ``seqnn inspect``.

Each is drawn on matplotlib's Agg canvas directly (no pyplot, no window, any
thread) and written atomically; without matplotlib each raises ImportError, and
the caller says so in one line (``metrics.csv`` keeps every number).
"""

from __future__ import annotations

import numpy as np

from .._checks import check_path
from .._files import write_atomic


def plot_training(steps, train_bpc, val_steps, val_bpc, path) -> None:
    """Draw training and validation loss (bits per character) against steps into ``path`` (a PNG), atomically.

    steps (N,) with train_bpc (N,): every training step's loss (drawn faint, with
    a moving average over 25 steps on top); val_steps (M,) with val_bpc (M,).
    Uses matplotlib's Agg canvas directly (no pyplot, no window, any thread);
    raises ImportError when matplotlib is not installed.
    """
    steps, val_steps = _steps("steps", steps), _steps("val_steps", val_steps)
    train_bpc = _values("train_bpc", train_bpc, "steps", steps)
    val_bpc = _values("val_bpc", val_bpc, "val_steps", val_steps)
    path = check_path("path", path)
    fig = _figure((7, 4))
    ax = fig.add_subplot()
    if len(steps):
        ax.plot(steps, train_bpc, color="tab:blue", alpha=0.25, linewidth=0.8)
        w = min(25, len(train_bpc))
        smooth = np.convolve(train_bpc, np.ones(w) / w, mode="valid")
        ax.plot(steps[w - 1:], smooth, color="tab:blue", label=f"training (mean of {w} steps)")
    if len(val_steps):
        ax.plot(val_steps, val_bpc, "o-", color="tab:orange", markersize=3, label="validation")
        best = int(np.argmin(val_bpc))
        ax.plot(val_steps[best], val_bpc[best], "*", color="tab:red", markersize=12,
                label=f"best: {val_bpc[best]:.3f} at step {val_steps[best]} (best.npz)")
    ax.set_xlabel("step")
    ax.set_ylabel("bits per character")
    ax.set_title("seqnn train: loss")
    ax.grid(alpha=0.3)
    ax.legend()
    _save(fig, path)


def plot_saturation(saturation: dict, path, title: str = "gate saturation") -> None:
    """Draw ``seqnn.probe.saturation``'s fractions into ``path`` (a PNG), as Karpathy et al. (2015) did: one
    panel per gate, one point per unit (x: the fraction of steps it is left-saturated, below 0.1; y:
    right-saturated, above 0.9), coloured by layer. Raises ImportError without matplotlib."""
    path = check_path("path", path)
    gates = sorted({gate for _, gate in saturation}, key=lambda g: "ifozrg".find(g))
    layers = sorted({layer for layer, _ in saturation})
    fig = _figure((3.2 * max(1, len(gates)), 3.4))
    for k, gate in enumerate(gates):
        ax = fig.add_subplot(1, len(gates), k + 1)
        for layer in layers:
            left, right = saturation[layer, gate]
            ax.plot(left, right, "o", markersize=3, alpha=0.6, label=f"layer {layer + 1}")
        ax.plot([0, 1], [1, 0], color="0.8", linewidth=0.8)       # left + right = 1: always saturated
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(f"{gate} gate")
        ax.set_xlabel("fraction left-saturated (< 0.1)")
        if k == 0:
            ax.set_ylabel("fraction right-saturated (> 0.9)")
            ax.legend(fontsize=8)
    fig.suptitle(title)
    _save(fig, path)


def plot_reach(curves: dict, path) -> None:
    """Draw how far back predictions look into ``path`` (a PNG): for each label, a ``seqnn.probe.Reach`` (the
    median over positions of ||dE_t / dx_(t-k)|| relative to k = 0, with the band between its quartiles), on a
    log scale; a label "MODEL, untrained" (a control) is dashed, in the colour of MODEL's label. Raises
    ImportError without matplotlib."""
    path = check_path("path", path)
    fig = _figure((7, 4))
    ax = fig.add_subplot()
    colours: dict = {}                                       # a model and its control: one colour
    for label, r in curves.items():
        k = np.arange(len(r.median))
        colour = colours.setdefault(label.split(", untrained")[0], f"C{len(colours)}")
        style = "--" if "untrained" in label else "-"
        ax.semilogy(k, np.maximum(r.median, 1e-30), style, color=colour, label=f"{label}: median, quartiles shaded")
        ax.fill_between(k, np.maximum(r.q25, 1e-30), np.maximum(r.q75, 1e-30), color=colour, alpha=0.15)
    ax.set_xlabel("k: how many characters back")
    ax.set_ylabel("||dE_t / dx_(t-k)|| / ||dE_t / dx_t||")
    ax.set_title("How far back does each prediction look?")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    _save(fig, path)


def _figure(size: tuple):
    """A matplotlib Figure on the Agg canvas (no pyplot, no window, any thread); ImportError without matplotlib."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=size, dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: str) -> None:
    """Lay the figure out and write it to ``path`` as a PNG, atomically."""
    fig.tight_layout()
    write_atomic(path, lambda f: fig.savefig(f, format="png"))


def _steps(name: str, steps) -> np.ndarray:
    """Step numbers: a 1-D list or array of ints."""
    steps = np.asarray(steps)
    if steps.ndim != 1 or (steps.size and steps.dtype.kind not in "iu"):
        raise TypeError(f"{name}: expected a 1-D list of step numbers (ints), got {steps.dtype} of shape {steps.shape}")
    return steps


def _values(name: str, values, steps_name: str, steps: np.ndarray) -> np.ndarray:
    """One finite number per step."""
    try:
        values = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: expected numbers, got {type(values).__name__}") from None
    if values.shape != steps.shape:
        raise ValueError(f"{name}: expected one value per entry of {steps_name}, shape {steps.shape}, "
                         f"got {values.shape}")
    if not np.isfinite(values).all():
        raise ValueError(f"{name}: expected finite values, got NaN or inf")
    return values
