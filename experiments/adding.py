"""The adding problem: which recurrent cell carries a number across T steps, seqnn and PyTorch side by side.

The task (Hochreiter & Schmidhuber 1997, in the setup of Le, Jaitly & Hinton
2015; ``seqnn.data.adding_problem``): each step's input is a value from U[0, 1)
and a marker; two markers are 1, one in each half of the sequence; the target
is the sum of the two marked values. A linear readout of the last hidden state,
mean squared error. Always answering 1 scores 1/6 (the line of a model that has
learned nothing); a length counts as *solved* when the test MSE falls below 0.01.

The models (hidden 128, batch 32, Adam, global-norm clipping 1.0, float32):

    rnn    tanh RNN, default initialisation (PyTorch's U(-1/sqrt(H), 1/sqrt(H)))   lr 1e-3
    irnn   ReLU RNN, W_hh = I, zero bias, W_xh ~ N(0, 0.001^2) (Le et al.)         lr 1e-4
    lstm   LSTM, forget-gate bias 1, the other biases 0                             lr 1e-3
    gru    GRU, default initialisation                                              lr 1e-3

Each (model, T, seed) is one run: train on fresh batches (drawn from
``default_rng([seed, T])``), evaluate the test MSE on 1000 sequences fixed per
length (``default_rng([T])``) every ``--eval-every`` steps, stop when solved or
at the budget. With ``--torch`` the same run also trains the PyTorch twin: the
same initial weights (through ``seqnn.interop``), the same batches in the same
order, ``torch.optim.Adam`` and ``clip_grad_norm_`` with the same settings, and
PyTorch's second bias ``bias_hh`` kept at zero (``interop.seqnn_parameters``;
seqnn has one bias where PyTorch adds two, and training both would move the
effective bias twice as fast). The run stops when both have solved.

Vanishing gradients become *subnormal* floats (below 1.2e-38 in float32), which
x86 CPUs handle several times slower: a tanh RNN at T = 200 takes 44 ms a step
in seqnn and 54 in PyTorch on one core here, 9 and 15 with them flushed to zero.
``--flush-denormals`` sets the CPU's flush-to-zero flags for the run's thread
through ``torch.set_flush_denormal(True)`` (numpy has no switch of its own, but
its arithmetic and one-threaded BLAS run in that thread too, so both libraries
get the same treatment). A value that small changes no result that is printed.

Runs are independent processes: ``--jobs N`` runs N at a time, each pinned to
its own ``--threads`` cores (numpy's BLAS and torch get that many threads), so
that a machine with more cores runs more at once without the runs disturbing
each other's timings.

    python experiments/adding.py --models lstm gru --lengths 50 --steps 3000        # a few minutes
    python experiments/adding.py --torch                                            # the full grid (hours)
    python experiments/adding.py --report-only --out experiments/results/adding     # redraw from the JSON
    python experiments/adding.py --parity       # both libraries' losses, step by step, float64 and float32

Writes to ``--out``: ``runs/<model>-T<T>-s<seed>.json`` (one per run, with the
whole learning curves), ``adding.json`` (all of them), ``adding.md`` (tables)
and ``adding.png`` (test MSE against steps, one panel per length).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import seqnn
from seqnn.data import adding_problem
from seqnn.losses import mean_squared_error
from seqnn.train import train_step

HIDDEN, BATCH, TEST_SIZE = 128, 32, 1000
SOLVED = 0.01                      # test MSE below this: the length is solved
BASELINE = 1 / 6                   # the MSE of always answering 1
MODELS = {                         # name -> (seqnn cell, learning rate, what the table calls it)
    "rnn": ("rnn", 1e-3, "RNN (tanh)"),
    "irnn": ("rnn", 1e-4, "IRNN (ReLU, W_hh = I)"),
    "lstm": ("lstm", 1e-3, "LSTM (forget bias 1)"),
    "gru": ("gru", 1e-3, "GRU"),
}
CLIP = 1.0
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


# --- the model -------------------------------------------------------------------------------------------------
class AddingModel(seqnn.Module):
    """A recurrent layer over X (T, B, 2) and a linear readout of its last hidden state: (B, 1).

    ``forward(X) -> y`` (B, 1); ``backward(dy) -> dX``. ``name`` is a key of MODELS. Like seqnn's own
    models, each checks its argument at the door (``check=False``: the caller has) and runs its layers unchecked.
    """

    def __init__(self, name: str, hidden_size: int = HIDDEN, dtype=np.float32, rng=None):
        super().__init__()
        kind = MODELS[name][0]
        rng = np.random.default_rng(rng)
        self.dtype = np.dtype(dtype)
        extra = {}
        if name == "irnn":                                    # Le, Jaitly & Hinton 2015
            extra = dict(nonlinearity="relu", recurrent_init="identity",
                         input_init=lambda shape, rng: rng.normal(0.0, 0.001, shape))
        self.rnn = seqnn.RecurrentStack(kind, 2, hidden_size, dtype=dtype, rng=rng, **extra)
        cell = self.rnn.layers[0].cell
        if name == "irnn":
            cell.b_h = np.zeros_like(cell.b_h)
        if name == "lstm":                                    # forget bias 1, the other biases 0
            cell.b_h = np.zeros_like(cell.b_h)
            cell.b_f = np.ones_like(cell.b_f)
        self.out = seqnn.Linear(hidden_size, 1, dtype=dtype, rng=rng)

    def forward(self, X: np.ndarray, *, check: bool = True) -> np.ndarray:
        H, _ = self.rnn.forward(X, check=check)                # the stack's door checks X
        self._shape = H.shape
        return self.out.forward(H[-1], check=False)

    def backward(self, dy: np.ndarray, *, check: bool = True) -> np.ndarray:
        """dy (B, 1) -> dX (T, B, 2); adds every parameter's gradient."""
        if check:
            self.out.check_gradient("dy", dy)
        dH = np.zeros(self._shape, self.dtype)
        dH[-1] = self.out.backward(dy, check=False)            # only the last step is read out
        dX, _ = self.rnn.backward(dH, check=False)
        return dX


def evaluate_mse(predict, X, y, chunk: int = 250) -> float:
    """Mean squared error of ``predict`` over the test set, in chunks (the forward caches keep memory small)."""
    preds = [predict(X[:, k:k + chunk]) for k in range(0, X.shape[1], chunk)]
    return float(np.mean((np.concatenate(preds) - y) ** 2))


def torch_twin(model):
    """The PyTorch twin of an ``AddingModel``: the same weights, ``forward(X) -> (B, 1)``."""
    import torch

    from seqnn import interop

    class TorchAdding(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn, self.out = interop.torch_module(model.rnn), interop.torch_module(model.out)

        def forward(self, X):
            H, _ = self.rnn(X)
            return self.out(H[-1])

    return TorchAdding()


def torch_trainer(model, lr: float):
    """The twin of ``model`` and ``step(X, y) -> loss``: Adam and clipping as in seqnn, ``bias_hh`` kept at zero."""
    import torch

    from seqnn import interop
    twin = torch_twin(model)
    params = interop.seqnn_parameters(twin)
    optimizer = torch.optim.Adam(params, lr=lr)

    def step(X, y):
        loss = torch.nn.functional.mse_loss(twin(torch.from_numpy(X)), torch.from_numpy(y))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, CLIP)
        optimizer.step()
        value = loss.item()
        if not np.isfinite(value):
            raise FloatingPointError(f"the loss is {value}")
        return value

    return twin, step


# --- one run ---------------------------------------------------------------------------------------------------
def run_one(name: str, T: int, seed: int = 0, steps: int = 20000, minutes: float | None = None,
            eval_every: int = 100, with_torch: bool = False, log=print, *, hidden: int = HIDDEN,
            lr: float | None = None, test_size: int = TEST_SIZE) -> dict:
    """Train ``name`` at length T (and its PyTorch twin); returns the run's record (curves, times, solve steps).

    ``hidden``, ``lr`` (None: the model's own) and ``test_size`` change the setup for short
    runs (the tests); ``log`` None prints nothing.
    """
    lr = MODELS[name][1] if lr is None else lr
    log = log or (lambda *args, **kwargs: None)
    model = AddingModel(name, hidden_size=hidden, rng=seed)
    opt = seqnn.Adam(model.parameters(), lr=lr)
    X_test, y_test = adding_problem(T, test_size, rng=np.random.default_rng([T]), dtype=np.float32)
    batches = np.random.default_rng([seed, T])
    sides = {"seqnn": {"mse": [], "seconds": 0.0, "solved_at": None, "solved_seconds": None, "diverged_at": None}}

    def seqnn_step(X, y):
        return train_step(model, (X,), y, optimizer=opt, clip_norm=CLIP, loss=mean_squared_error).loss

    def seqnn_predict(X):
        return model.forward(X)

    steppers, predictors = {"seqnn": seqnn_step}, {"seqnn": seqnn_predict}
    if with_torch:
        import torch

        twin, torch_step = torch_trainer(model, lr)

        def torch_predict(X):
            with torch.no_grad():
                return twin(torch.from_numpy(X)).numpy()

        steppers["torch"], predictors["torch"] = torch_step, torch_predict
        sides["torch"] = {"mse": [], "seconds": 0.0, "solved_at": None, "solved_seconds": None, "diverged_at": None}

    evals, start = [], time.perf_counter()

    def evaluate(step):
        evals.append(step)
        for side, record in sides.items():
            mse = evaluate_mse(predictors[side], X_test, y_test) if record["diverged_at"] is None else float("nan")
            record["mse"].append(mse)
            if record["solved_at"] is None and mse < SOLVED:
                record["solved_at"], record["solved_seconds"] = step, record["seconds"]
        log(f"{name:4} T={T:<4} seed {seed} step {step:6d}  " + "  ".join(
            f"{side} {r['mse'][-1]:.5f} ({1e3 * r['seconds'] / max(step, 1):.1f} ms/step)"
            for side, r in sides.items()), flush=True)

    evaluate(0)
    step = 0
    while step < steps:
        if minutes is not None and time.perf_counter() - start > 60 * minutes:
            break
        X, y = adding_problem(T, BATCH, rng=batches, dtype=np.float32)
        step += 1
        for side, record in sides.items():
            if record["diverged_at"] is not None:
                continue
            t0 = time.perf_counter()
            try:
                steppers[side](X, y)
            except (FloatingPointError, ValueError) as err:     # a NaN loss or gradient: this side stops
                record["diverged_at"] = step
                log(f"{name} T={T} {side}: diverged at step {step}: {err}")
            record["seconds"] += time.perf_counter() - t0
        if step % eval_every == 0:
            evaluate(step)
            if all(r["solved_at"] is not None or r["diverged_at"] is not None for r in sides.values()):
                break
    if step % eval_every:
        evaluate(step)
    for record in sides.values():
        record["steps"] = step
        record["ms_per_step"] = 1e3 * record["seconds"] / max(step, 1)
        finite = [m for m in record["mse"] if np.isfinite(m)]
        record["best_mse"] = min(finite) if finite else None
    return {"model": name, "label": MODELS[name][2], "T": T, "seed": seed, "lr": lr, "hidden": hidden,
            "batch": BATCH, "clip": CLIP, "eval_steps": evals, "sides": sides,
            "threads": int(os.environ.get("OPENBLAS_NUM_THREADS", "0")) or None,
            "cores": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None}


def parity(T: int = 200, steps: int = 100, at=(1, 10, 50, 100), log=print) -> dict:
    """How far seqnn's and PyTorch's training losses are apart, step by step, in float64 and float32.

    Each model trains ``steps`` steps in both libraries from the same weights on the same
    batches (nothing else: no evaluation). Returns ``{(dtype, model): [relative gap at each step]}``
    and prints the gaps at the steps in ``at``: round-off (1e-16 in float64, 1e-7 in float32)
    unless the training dynamics amplify it, which they do for the IRNN at long lengths.
    """
    gaps = {}
    for dtype in (np.float64, np.float32):
        for name in MODELS:
            lr = MODELS[name][1]
            model = AddingModel(name, dtype=dtype, rng=0)
            opt, (_, torch_step) = seqnn.Adam(model.parameters(), lr=lr), torch_trainer(model, lr)
            batches, row = np.random.default_rng([0, T]), []
            for _ in range(steps):
                X, y = adding_problem(T, BATCH, rng=batches, dtype=dtype)
                a = train_step(model, (X,), y, optimizer=opt, clip_norm=CLIP, loss=mean_squared_error).loss
                row.append(abs(a - torch_step(X, y)) / abs(a))
            gaps[np.dtype(dtype).name, name] = row
            log(f"{np.dtype(dtype).name:8} {name:5} T={T}: |loss seqnn - loss PyTorch| / loss at steps "
                + ", ".join(f"{k}: {row[k - 1]:.1e}" for k in at if k <= steps), flush=True)
    return gaps


# --- many runs, as independent pinned processes -----------------------------------------------------------------
def run_file(out: Path, name: str, T: int, seed: int) -> Path:
    return out / "runs" / f"{name}-T{T}-s{seed}.json"


def child_main(args):
    """One run in this process (launched by ``launch``): pin, set threads, train, write the JSON."""
    if args.cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, [int(c) for c in args.cores.split(",")])
    threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    if args.torch or args.flush_denormals:
        import torch
        torch.set_num_threads(threads)
        torch.set_flush_denormal(args.flush_denormals)
    name, T, seed = args.one
    record = run_one(name, int(T), int(seed), args.steps, args.minutes, args.eval_every, args.torch)
    record["threads"], record["flush_denormals"] = threads, args.flush_denormals
    path = run_file(Path(args.out), name, int(T), int(seed))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record))
    os.replace(tmp, path)


def launch(args) -> None:
    """Run every (model, T, seed) not yet on disk, ``--jobs`` at a time, each pinned to ``--threads`` cores."""
    out = Path(args.out)
    todo = [(m, T, s) for T in sorted(args.lengths, reverse=True) for m in args.models for s in args.seeds
            if args.rerun or not run_file(out, m, T, s).exists()]
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else list(range(os.cpu_count()))
    jobs = args.jobs or max(1, len(cores) // args.threads)
    slots = [cores[k * args.threads:(k + 1) * args.threads] for k in range(jobs)]
    if any(len(slot) < args.threads for slot in slots):
        raise SystemExit(f"--jobs {jobs} x --threads {args.threads} needs {jobs * args.threads} cores; "
                         f"this process may use {len(cores)}")
    (out / "logs").mkdir(parents=True, exist_ok=True)
    print(f"{len(todo)} runs, {jobs} at a time, {args.threads} core(s) each: {slots}")
    running: dict = {}                                         # slot index -> (Popen, run, log file)
    while todo or running:
        for k in range(jobs):
            if k not in running and todo:
                m, T, s = todo.pop(0)
                env = dict(os.environ, **{v: str(args.threads) for v in THREAD_VARS})
                cmd = [sys.executable, __file__, "--one", m, str(T), str(s), "--out", str(out),
                       "--steps", str(args.steps), "--eval-every", str(args.eval_every),
                       "--cores", ",".join(map(str, slots[k]))]
                cmd += ["--minutes", str(args.minutes)] if args.minutes else []
                cmd += ["--torch"] if args.torch else []
                cmd += ["--flush-denormals"] if args.flush_denormals else []
                logf = open(out / "logs" / f"{m}-T{T}-s{s}.log", "w")
                running[k] = (subprocess.Popen(cmd, env=env, stdout=logf, stderr=subprocess.STDOUT), (m, T, s), logf)
                print(f"  started {m} T={T} seed {s} on cores {slots[k]}", flush=True)
        time.sleep(1.0)
        for k, (proc, run, logf) in list(running.items()):
            if proc.poll() is not None:
                logf.close()
                del running[k]
                status = "done" if proc.returncode == 0 else f"FAILED (exit {proc.returncode}; see logs/)"
                print(f"  {status}: {run[0]} T={run[1]} seed {run[2]}", flush=True)


# --- the report -------------------------------------------------------------------------------------------------
def load_runs(out: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((out / "runs").glob("*.json"))]


def curves_part(run: dict, tolerance: float = 0.01):
    """Where seqnn's and PyTorch's test-MSE curves part: ``(step, largest relative gap before it)``.

    The curves are *the same* at an evaluation when ``|a - b| / min(a, b) <= tolerance``;
    ``step`` is the first evaluation where they are not (None if they never part).
    """
    if "torch" not in run["sides"]:
        return None, None
    a, b = run["sides"]["seqnn"]["mse"], run["sides"]["torch"]["mse"]
    largest = 0.0
    for step, x, y in zip(run["eval_steps"], a, b):
        gap = abs(x - y) / min(x, y) if np.isfinite(x) and np.isfinite(y) else np.inf
        if gap > tolerance:
            return step, largest
        largest = max(largest, gap)
    return None, largest


def outcome(side: dict) -> str:
    if side["solved_at"] is not None:
        return f"**{side['solved_at']:,}** ({side['solved_seconds'] / 60:.1f} min)"
    if side["diverged_at"] is not None:
        return f"diverged at {side['diverged_at']:,}"
    return f"not in {side['steps']:,} (best {side['best_mse']:.3f})"


def summary(runs: list[dict]) -> str:
    """One line per model, one column per length: steps to solve in each seed ("-": not solved), both libraries."""
    lengths = sorted({r["T"] for r in runs})
    sides = [side for side in ("seqnn", "torch") if any(side in r["sides"] for r in runs)]
    lines = ["| model | library | " + " | ".join(f"T = {T}" for T in lengths) + " |",
             "|---|---|" + "---|" * len(lengths)]
    for name in MODELS:
        for side in sides:
            cells = []
            for T in lengths:
                found = sorted((r for r in runs if r["model"] == name and r["T"] == T and side in r["sides"]),
                               key=lambda r: r["seed"])
                cells.append(", ".join(f"{r['sides'][side]['solved_at']:,}" if r["sides"][side]["solved_at"]
                                       else "-" for r in found) or " ")
            if any(c.strip() for c in cells):
                lines.append(f"| {MODELS[name][2]} | {'PyTorch' if side == 'torch' else side} | "
                             + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def markdown(runs: list[dict]) -> str:
    """One table per length: steps (and minutes) to solve or the best MSE, ms per step, where the curves part."""
    with_torch = any("torch" in r["sides"] for r in runs)
    lines = []
    for T in sorted({r["T"] for r in runs}):
        lines += [f"**T = {T}**", ""]
        if with_torch:
            lines += ["| model | seed | seqnn: steps to solve | PyTorch: steps to solve | ms/step seqnn | "
                      "ms/step PyTorch | seqnn/PyTorch | same curve (within 1%) until | largest gap until then |",
                      "|---|---|---|---|---|---|---|---|---|"]
        else:
            lines += ["| model | seed | steps to solve | ms/step |", "|---|---|---|---|"]
        for r in sorted((r for r in runs if r["T"] == T), key=lambda r: (list(MODELS).index(r["model"]), r["seed"])):
            s = r["sides"]["seqnn"]
            if "torch" in r["sides"]:
                t = r["sides"]["torch"]
                parted, gap = curves_part(r)
                if parted is None:
                    until, gap = "the end", f"{gap:.0e}"
                elif parted == r["eval_steps"][1]:              # apart at the first evaluation already
                    until, gap = f"(apart at {parted:,})", "-"
                else:
                    until, gap = f"{parted - r['eval_steps'][1]:,}", f"{gap:.0e}"
                lines.append(f"| {r['label']} | {r['seed']} | {outcome(s)} | {outcome(t)} | {s['ms_per_step']:.1f} | "
                             f"{t['ms_per_step']:.1f} | {s['ms_per_step'] / t['ms_per_step']:.2f} | {until} | "
                             f"{gap} |")
            else:
                lines.append(f"| {r['label']} | {r['seed']} | {outcome(s)} | {s['ms_per_step']:.1f} |")
        lines.append("")
    return "\n".join(lines)


def plot(runs: list[dict], path: Path) -> None:
    """Test MSE against steps, one panel per length: the first seed's runs, seqnn solid, PyTorch dotted."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lengths = sorted({r["T"] for r in runs})
    fig, axes = plt.subplots(1, len(lengths), figsize=(5 * len(lengths), 4.3), sharey=True, squeeze=False)
    colours = dict(zip(MODELS, ("tab:red", "tab:orange", "tab:blue", "tab:green")))
    seed = min(r["seed"] for r in runs)
    for ax, T in zip(axes[0], lengths):
        for r in sorted((r for r in runs if r["T"] == T and r["seed"] == seed),
                        key=lambda r: list(MODELS).index(r["model"])):
            for side, style in (("seqnn", "-"), ("torch", ":")):
                if side in r["sides"]:
                    label = f"{r['label']}, {'PyTorch' if side == 'torch' else side}" if T == lengths[0] else None
                    ax.plot(r["eval_steps"], r["sides"][side]["mse"], style, color=colours[r["model"]],
                            lw=1.6 if side == "seqnn" else 1.4, label=label)
        ax.axhline(BASELINE, color="grey", lw=0.8, ls="--")
        ax.axhline(SOLVED, color="black", lw=0.8, ls="--")
        ax.set_yscale("log")
        ax.set_ylim(1e-3, 2)                                   # a diverging spike may leave the panel
        ax.set_title(f"T = {T}")
        ax.set_xlabel("training steps (batches of 32)")
    axes[0][0].set_ylabel(f"test MSE (1000 sequences), seed {seed}")
    axes[0][0].annotate("answer 1 always (1/6)", (0, BASELINE), xytext=(2, 3), textcoords="offset points",
                        fontsize=8, color="grey")
    axes[0][0].annotate("solved (0.01)", (0, SOLVED), xytext=(2, -10), textcoords="offset points", fontsize=8)
    fig.legend(loc="lower center", ncol=4, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def report(out: Path) -> None:
    runs = load_runs(out)
    if not runs:
        raise SystemExit(f"no runs in {out / 'runs'}")
    machine = {"python": platform.python_version(), "numpy": np.__version__, "seqnn": seqnn.__version__,
               "processor": platform.processor() or platform.machine(), "system": platform.system()}
    try:
        import torch
        machine["torch"] = torch.__version__
    except ImportError:
        pass
    (out / "adding.json").write_text(json.dumps({"machine": machine, "runs": runs}, indent=1))
    text = summary(runs) + "\n" + markdown(runs)
    (out / "adding.md").write_text(text)
    plot(runs, out / "adding.png")
    print(text)
    print(f"wrote {out / 'adding.json'}, {out / 'adding.md'}, {out / 'adding.png'}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    p.add_argument("--lengths", nargs="+", type=int, default=[50, 100, 200])
    p.add_argument("--seeds", nargs="+", type=int, default=[0])
    p.add_argument("--steps", type=int, default=20000, help="the step budget of each run (default 20000)")
    p.add_argument("--minutes", type=float, default=None, help="a time budget for each run, in minutes")
    p.add_argument("--eval-every", type=int, default=100)
    p.add_argument("--torch", action="store_true", help="also train the PyTorch twin (same weights, same batches)")
    p.add_argument("--flush-denormals", action="store_true",
                   help="treat subnormal floats as zero (needs torch; see the docstring)")
    p.add_argument("--jobs", type=int, default=None, help="runs at a time (default: cores // threads)")
    p.add_argument("--threads", type=int, default=1, help="cores (and BLAS/torch threads) per run (default 1)")
    p.add_argument("--out", default="adding-results", help="results folder (default ./adding-results)")
    p.add_argument("--rerun", action="store_true", help="run again what is already in --out")
    p.add_argument("--report-only", action="store_true", help="only rebuild the JSON, table and plot")
    p.add_argument("--parity", action="store_true",
                   help="only print how far the two libraries' losses are apart over the first 100 steps")
    p.add_argument("--one", nargs=3, metavar=("MODEL", "T", "SEED"), help=argparse.SUPPRESS)
    p.add_argument("--cores", default="", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.one:
        return child_main(args)
    if args.parity:
        import torch
        torch.set_num_threads(1)
        return parity(max(args.lengths))
    if not args.report_only:
        launch(args)
    report(Path(args.out))


if __name__ == "__main__":
    main()
