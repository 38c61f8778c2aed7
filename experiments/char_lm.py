"""A character-level LSTM on the bundled corpus, trained by seqnn and by PyTorch side by side.

seqnn trains exactly as ``seqnn train`` does (``runsetup.make_run`` builds the model,
Adam and the ``StreamTrainer``: truncated BPTT over 32 parallel streams, state
carried from chunk to chunk, global-norm clipping). The PyTorch twin starts from
the same weights (``seqnn.interop.torch_module``), reads the same chunks in the
same order with its state carried and detached, and uses ``torch.optim.Adam`` and
``clip_grad_norm_`` with the same settings; its second bias ``bias_hh`` stays at
zero (``interop.seqnn_parameters``: seqnn has one bias where PyTorch adds two).
Every ``--eval-every`` steps both are evaluated on the same held-out text the
same way (``seqnn.train.evaluate``'s procedure: columns read in chunks with the
state carried), in bits per character.

    python experiments/char_lm.py                          # 3,000 steps of each, about 25 minutes on one core
    python experiments/char_lm.py --steps 300 --hidden 64  # a quick look
    python experiments/char_lm.py --dtype float64 --steps 300   # both in float64: the curves part much later

Writes ``--out``/char_lm-<dtype>-lr<lr>.json (both curves, training losses every
step, times) and a .png of the two validation curves and their difference.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
from pathlib import Path

import numpy as np

import seqnn
from seqnn.app import options, runsetup
from seqnn.data import batchify
from seqnn.train import evaluate


class TorchStreamTrainer:
    """The PyTorch twin of a seqnn ``StreamTrainer`` over a ``CharLM`` trained with Adam.

    Same initial weights, the same chunks in the same order (full chunks only,
    state carried and detached, fresh at each epoch), ``torch.optim.Adam`` with
    the seqnn optimizer's lr, betas and eps, ``clip_grad_norm_`` with its clip
    threshold, and ``bias_hh`` kept out of training. ``step() -> loss`` (nats
    per character); ``evaluate(ids, batch_size) -> nats`` as ``seqnn.train.evaluate``.
    """

    def __init__(self, trainer):
        import torch

        from seqnn import interop
        if not isinstance(trainer.optimizer, seqnn.Adam):
            raise TypeError(f"trainer: the twin mirrors Adam, got {type(trainer.optimizer).__name__}")
        if trainer.model.rnn.dropout:
            raise ValueError("trainer: the twin cannot draw seqnn's dropout masks; use one layer or dropout 0")
        self.torch = torch
        self.twin = interop.torch_module(trainer.model)
        self.params = interop.seqnn_parameters(self.twin)
        o = trainer.optimizer
        self.optimizer = torch.optim.Adam(self.params, lr=o.lr, betas=(o.b1, o.b2), eps=o.eps)
        self.data = torch.from_numpy(trainer.data)
        self.k, self.chunks_per_epoch, self.clip = trainer.k, trainer.chunks_per_epoch, trainer.clip_norm
        self.chunk, self.state = 0, None

    def step(self) -> float:
        torch, k = self.torch, self.k
        x = self.data[self.chunk * k:(self.chunk + 1) * k]
        y = self.data[self.chunk * k + 1:(self.chunk + 1) * k + 1]
        logits, state = self.twin(x, self.state)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        self.optimizer.zero_grad()
        loss.backward()
        if self.clip:
            torch.nn.utils.clip_grad_norm_(self.params, self.clip)
        self.optimizer.step()
        self.chunk += 1
        if self.chunk == self.chunks_per_epoch:
            self.chunk, self.state = 0, None
        else:
            self.state = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
        return loss.item()

    def evaluate(self, ids: np.ndarray, batch_size: int) -> float:
        torch, k = self.torch, self.k
        data = torch.from_numpy(batchify(ids, max(1, min(batch_size, (len(ids) - 1) // k))))
        total, state = 0.0, None
        with torch.no_grad():
            for start in range(0, len(data) - 1, k):
                stop = min(start + k, len(data) - 1)
                logits, state = self.twin(data[start:stop], state)
                total += torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                                           data[start + 1:stop + 1].reshape(-1), reduction="sum").item()
        return total / ((len(data) - 1) * data.shape[1])


def compare(opts: dict, steps: int, eval_every: int, log=print) -> dict:
    """Train seqnn (as ``seqnn train``) and its PyTorch twin in lockstep; returns both curves."""
    run = runsetup.make_run(opts, [])                                  # the bundled corpus
    trainer, model = run.trainer, run.model
    twin = TorchStreamTrainer(trainer)
    bits = 1 / math.log(2)
    out = {"eval_steps": [], "val_bpc": {"seqnn": [], "torch": []}, "train_loss": {"seqnn": [], "torch": []},
           "seconds": {"seqnn": 0.0, "torch": 0.0}}

    def validate(step):
        out["eval_steps"].append(step)
        for side, nats in (("seqnn", evaluate(model, run.val_ids, trainer.k, opts["batch"])),
                           ("torch", twin.evaluate(run.val_ids, opts["batch"]))):
            out["val_bpc"][side].append(nats * bits)
        s, t = out["val_bpc"]["seqnn"][-1], out["val_bpc"]["torch"][-1]
        log(f"step {step:5d}  validation bits/char: seqnn {s:.4f}  PyTorch {t:.4f}  |diff| {abs(s - t):.1e}  "
            f"({1e3 * out['seconds']['seqnn'] / max(step, 1):.0f} / {1e3 * out['seconds']['torch'] / max(step, 1):.0f}"
            f" ms per step)", flush=True)

    validate(0)
    for step in range(1, steps + 1):
        for side, do in (("seqnn", lambda: trainer.step()[0]), ("torch", twin.step)):
            t0 = time.perf_counter()
            out["train_loss"][side].append(do())
            out["seconds"][side] += time.perf_counter() - t0
        if step % eval_every == 0 or step == steps:
            validate(step)
    out.update(steps=steps, chars_per_step=trainer.k * opts["batch"], options=opts,
               val_chars=len(run.val_ids), vocab=len(run.vocab), parameters=model.num_parameters())
    return out


def plot(result: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, gap) = plt.subplots(2, 1, figsize=(7, 5.5), sharex=True, gridspec_kw={"height_ratios": [3, 1.3]})
    steps = result["eval_steps"]
    for side, style, label in (("seqnn", "-", "seqnn"), ("torch", ":", "PyTorch (same weights, same batches)")):
        ax.plot(steps, result["val_bpc"][side], style, lw=1.8 if side == "seqnn" else 1.4, label=label)
    ax.set_ylabel("validation bits per character")
    ax.legend()
    o = result["options"]
    ax.set_title(f"character LSTM, 1 x {o['hidden']}, the bundled corpus (Alice), {o['dtype']}, Adam {o['lr']:g}",
                 fontsize=10)
    diffs = [abs(a - b) for a, b in zip(result["val_bpc"]["seqnn"], result["val_bpc"]["torch"])]
    gap.semilogy(steps[1:], diffs[1:], color="black", lw=1)
    gap.set_ylabel("|difference|")
    gap.set_xlabel(f"training steps ({result['chars_per_step']:,} characters each)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--eval-every", type=int, default=100)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--lr", type=float, default=None, help="Adam's learning rate (default: seqnn train's, 5e-3)")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--threads", type=int, default=None, help="numpy (set OPENBLAS_NUM_THREADS too) and torch threads")
    p.add_argument("--out", default="char-results")
    p.add_argument("--plot-only", metavar="JSON", help="redraw the plot of a finished run from its JSON")
    args = p.parse_args(argv)
    if args.plot_only:
        return plot(json.loads(Path(args.plot_only).read_text()), Path(args.plot_only).with_suffix(".png"))
    import torch
    threads = args.threads or (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)
    torch.set_num_threads(threads)
    opts = options.new_options(dict(cell="lstm", hidden=args.hidden, layers=1, dtype=args.dtype, seed=args.seed,
                                    lr=args.lr))           # None: seqnn train's default
    result = compare(opts, args.steps, args.eval_every)
    diffs = [abs(a - b) for a, b in zip(result["val_bpc"]["seqnn"], result["val_bpc"]["torch"])]
    result.update(threads=threads, machine={"python": platform.python_version(), "numpy": np.__version__,
                                            "torch": torch.__version__, "processor": platform.processor()})
    print(f"largest |difference| of validation bits/char over {args.steps} steps: {max(diffs):.2e}; "
          f"ms per step: seqnn {1e3 * result['seconds']['seqnn'] / args.steps:.0f}, "
          f"PyTorch {1e3 * result['seconds']['torch'] / args.steps:.0f}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    name = f"char_lm-{args.dtype}-lr{opts['lr']:g}"
    (out / f"{name}.json").write_text(json.dumps(result))
    plot(result, out / f"{name}.png")
    print(f"wrote {out / name}.json and .png")


if __name__ == "__main__":
    main()
