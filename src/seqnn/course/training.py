"""The parts of ``grad_check.py``, ``optimizers.py``, ``generate.py`` and ``training_loop.py``: what training needs
around the network.

A gradient check against the exact gradients of two functions the child makes (``runner.FUNCTIONS``), and
seqnn's ``relative_error``; each optimizer over three steps against ``seqnn.optim`` (its state against the
exercise's equations); generation against the exact draws of the rng given, or else, for a draw written another
way, against what makes any draw right (the same seed, the same ids; their mean surprise under the model that of
a sample); the training loop against the same loop on seqnn's engine, on "hello" and on names.
"""

from __future__ import annotations

import numpy as np

from ..cells import RNNCell
from ..functional import one_hot, sigmoid, softmax
from ..gradient_check import relative_error
from ..layers import Linear
from ..losses import softmax_cross_entropy
from ..module import Parameter
from ..optim import SGD, Adagrad, Adam, clip_grad_norm
from ..recurrent import Recurrent
from .compare import Wrong, report, returned
from .mistakes import MISTAKES
from .runner import FUNCTIONS

EXACT = {                                       # the gradients of runner.FUNCTIONS, by hand
    "sin_square": lambda x: np.cos(x) * x ** 2 + 2 * x * np.sin(x) + x.sum(),
    "softplus": lambda x: sigmoid(x) * np.arange(1, x.size + 1).reshape(x.shape),
}


def differences(f, x, eps: float, one_sided: bool = False) -> np.ndarray:
    """Finite differences of ``f`` at ``x`` (central, or ``one_sided``), each divided by ``eps``."""
    out = np.zeros_like(x)
    for k in range(x.size):
        up, down = x.copy(), x.copy()
        up.flat[k] += eps
        down.flat[k] -= 0 if one_sided else eps
        out.flat[k] = (f(up) - f(down)) / eps
    return out


def grad_check_parts(m) -> dict:
    def numerical():
        x = np.random.default_rng(50).standard_normal((3, 4))
        for name, exact in EXACT.items():
            got = m.call("numerical_gradient", (m.function(name), x, 1e-4))[0]
            central = differences(FUNCTIONS[name], x, 1e-4)
            bugs = {MISTAKES["one-sided"]: (differences(FUNCTIONS[name], x, 1e-4, one_sided=True),),
                    MISTAKES["divided by eps"]: (central,)}
            report([f"the gradient of {name} at a (3, 4) x"], (got,), (exact(x),), bugs)

    def relative():
        rng = np.random.default_rng(51)
        a = rng.standard_normal((4, 5))
        n = a + rng.standard_normal((4, 5)) * 1e-3 * np.abs(a)
        a[0, :2] = n[0, :2] = 0.0                        # both 0: the error there is 0
        error = np.abs(a - n) / np.maximum(np.abs(a) + np.abs(n), 1e-8)
        bugs = {MISTAKES["absolute error"]: (np.abs(a - n).max(),), MISTAKES["mean error"]: (error.mean(),),
                MISTAKES["no floor"]: (np.nan,)}
        report(["relative_error of two (4, 5) gradients"], (m.relative_error(a, n),), (relative_error(a, n),), bugs)

    return {"numerical_gradient": numerical, "relative_error": relative}


# --- the optimizers --------------------------------------------------------------------------------------------
W0 = np.random.default_rng(52).standard_normal((3, 4))
GRADS = list(np.random.default_rng(53).standard_normal((3, 3, 4)))
LR, MU, EPS, BETAS = 0.1, 0.9, 0.1, (0.8, 0.9)      # eps this large, so that where it goes shows


def seqnn_steps(kind, **hyper) -> list:
    """The weights after each of the three steps of ``seqnn.optim.kind``."""
    p = Parameter(W0.copy())
    optimizer, out = kind([p], lr=LR, **hyper), []
    for g in GRADS:
        p.grad[...] = g
        optimizer.step()
        out.append(p.value.copy())
    return out


def by_equations(update, state: tuple) -> tuple:
    """The weights after each step and the state after the last, by ``update(w, g, state, t) -> (w, state)``."""
    w, ws = W0, []
    for t, g in enumerate(GRADS, 1):
        w, state = update(w, g, state, t)
        ws.append(w)
    return (*ws, *state)


def optimizers_parts(m) -> dict:
    names = ("w after step 1", "w after step 2", "w after step 3")

    def theirs(function, state: list, extra, state_names: tuple) -> tuple:
        w, ws = W0, []
        for t, g in enumerate(GRADS, 1):
            out = m.call(function, (w, g, *state, *extra(t)))[0]
            w, *state = returned(out, function, ("w", *state_names)) if state_names else (out,)
            ws.append(w)
        return (*ws, *state)

    def graded(function, kind, hyper, extra, state_names, right, mistakes):
        zeros = tuple(np.zeros_like(W0) for _ in state_names)
        got = theirs(function, list(zeros), extra, state_names)
        want = (*seqnn_steps(kind, **hyper), *by_equations(right, zeros)[3:])
        bugs = {MISTAKES[k]: by_equations(update, zeros) for k, update in mistakes.items()}
        report([*names, *(f"{s} after step 3" for s in state_names)], got, want, bugs)

    def sgd():
        graded("sgd_step", SGD, {}, lambda t: (LR,), (), lambda w, g, s, t: (w - LR * g, s),
               {"ascent": lambda w, g, s, t: (w + LR * g, s)})

    def momentum():
        graded("momentum_step", SGD, {"momentum": MU}, lambda t: (LR, MU), ("v",),
               lambda w, g, s, t: (w - LR * (MU * s[0] + g), (MU * s[0] + g,)),
               {"velocity of CS231n": lambda w, g, s, t: (w + (MU * s[0] - LR * g), (MU * s[0] - LR * g,)),
                "dampened momentum": lambda w, g, s, t: (w - LR * (MU * s[0] + (1 - MU) * g),
                                                         (MU * s[0] + (1 - MU) * g,)),
                "ascent": lambda w, g, s, t: (w + LR * (MU * s[0] + g), (MU * s[0] + g,))})

    def adagrad():
        graded("adagrad_step", Adagrad, {"eps": EPS}, lambda t: (LR, EPS), ("G",),
               lambda w, g, s, t: (w - LR * g / (np.sqrt(s[0] + g * g) + EPS), (s[0] + g * g,)),
               {"G of one step": lambda w, g, s, t: (w - LR * g / (np.abs(g) + EPS), (g * g,)),
                "eps in the root": lambda w, g, s, t: (w - LR * g / np.sqrt(s[0] + g * g + EPS), (s[0] + g * g,))})

    def adam():
        b1, b2 = BETAS

        def step(correct=True, root=False, squared=True):
            def update(w, g, s, t):
                m_, v = b1 * s[0] + (1 - b1) * g, b2 * s[1] + (1 - b2) * (g * g if squared else g)
                m_hat, v_hat = (m_ / (1 - b1 ** t), v / (1 - b2 ** t)) if correct else (m_, v)
                return w - LR * m_hat / (np.sqrt(v_hat + EPS) if root else np.sqrt(v_hat) + EPS), (m_, v)
            return update

        graded("adam_step", Adam, {"betas": BETAS, "eps": EPS}, lambda t: (t, LR, b1, b2, EPS), ("m", "v"), step(),
               {"no bias correction": step(correct=False), "eps in the root": step(root=True),
                "v of dw": step(squared=False)})

    return {"sgd_step": sgd, "momentum_step": momentum, "adagrad_step": adagrad, "adam_step": adam}


# --- generation ------------------------------------------------------------------------------------------------
V, H = 5, 6


def model() -> dict:
    rng = np.random.default_rng(54)
    return {"W_xh": rng.standard_normal((H, V)), "W_hh": rng.standard_normal((H, H)) * 0.5, "b_h": np.zeros(H),
            "W_hy": rng.standard_normal((V, H)) * 1.5, "b_y": rng.standard_normal(V) * 0.3}


def char_step(params: dict, x: int, h) -> tuple:
    """One step of the exercise's character RNN: (the logits of the next id, the new h)."""
    h = np.tanh(params["W_xh"][:, x] + params["W_hh"] @ h + params["b_h"])
    return params["W_hy"] @ h + params["b_y"], h


def generated(params, first: int, h, n: int, temperature: float, seed: int, fed: bool = True, carried: bool = True,
              greedy: bool = False, scaled: bool = True, with_first: bool = False) -> list:
    """The ids the generation loop draws with ``rng.choice`` from a Generator seeded ``seed``; with a classic
    mistake: the first id fed every step (``fed=False``), h not carried, the argmax taken (``greedy``), no
    temperature (``scaled=False``), the first id returned with the draws (``with_first``)."""
    rng, x, state, ids = np.random.default_rng(seed), first, h, []
    for _ in range(n):
        logits, new = char_step(params, x, state)
        p = softmax(logits / temperature if scaled else logits)
        drawn = int(p.argmax()) if greedy else int(rng.choice(V, p=p))
        ids.append(drawn)
        x, state = (drawn if fed else first), (new if carried else h)
    return [first, *ids[:-1]] if with_first else ids


def surprise(params, first: int, h, ids: list, temperature: float) -> tuple:
    """Along ``ids``, each fed back: (the mean -log p of the id drawn, the mean entropy of p) in nats. For a sample
    of the model they agree, within a few hundredths over thousands of steps."""
    x, nll, entropy = first, 0.0, 0.0
    for drawn in ids:
        logits, h = char_step(params, x, h)
        p = softmax(logits / temperature)
        nll, entropy, x = nll - np.log(p[drawn]), entropy - float((p * np.log(p)).sum()), drawn
    return nll / len(ids), entropy / len(ids)


def generate_parts(m) -> dict:
    def draws(params, h, n, temperature, seed) -> list:
        got = m.call("generate", (params, 2, h, n, temperature, m.rng(seed)))[0]
        if not isinstance(got, list) or len(got) != n or not all(
                isinstance(d, (int, np.integer)) and 0 <= d < V for d in got):
            raise Wrong(f"generate returned {type(got).__name__} {str(got)[:60]}, expected a list of {n} ids, ints "
                        f"in [0, {V})")
        return [int(d) for d in got]

    def generate():
        params, h = model(), np.random.default_rng(55).standard_normal(H) * 0.5
        for temperature in (1.0, 0.5):
            got = draws(params, h, 2000, temperature, 56)
            if got == generated(params, 2, h, 2000, temperature, 56):
                continue                                    # exactly rng.choice's draws from the rng given
            for mistake, how in (("not fed back", {"fed": False}), ("h not carried", {"carried": False}),
                                 ("greedy", {"greedy": True}), ("no temperature", {"scaled": False}),
                                 ("first included", {"with_first": True})):
                if got == generated(params, 2, h, 2000, temperature, 56, **how):
                    raise Wrong(MISTAKES[mistake], named=True)
            if draws(params, h, 200, temperature, 5) != draws(params, h, 200, temperature, 5):
                raise Wrong(MISTAKES["rng ignored"], named=True)
            if draws(params, h, 200, temperature, 5) == draws(params, h, 200, temperature, 6):
                raise Wrong(MISTAKES["seed ignored"], named=True)
            nll, entropy = surprise(params, 2, h, got, temperature)
            if abs(nll - entropy) > 0.15:
                raise Wrong(f"at temperature {temperature}, the ids are not draws from the model: their mean -log p "
                            f"is {nll:.2f} nats where a sample's is about {entropy:.2f} (is each id fed back, and h "
                            "carried?)")

    return {"generate (each draw fed back)": generate}


# --- a whole training loop --------------------------------------------------------------------------------------
NAMES = "emma\nolivia\nava\nisabella\nsophia\nmia\namelia\nharper\nevelyn\nabigail\n"


def trained(text: str, hidden: int, steps: int, lr: float, seed: int, ascent: bool = False, shift: bool = True,
            clipped: bool = True, first_come: bool = False) -> list:
    """The losses of the exercise's loop on seqnn's engine (RNNCell, Linear, softmax_cross_entropy,
    clip_grad_norm, SGD); with a classic mistake: ``ascent``, the targets not shifted, no clipping, the vocabulary
    in the order the characters first come."""
    chars = list(dict.fromkeys(text)) if first_come else sorted(set(text))
    ids = np.array([chars.index(ch) for ch in text])
    n = len(chars)
    rng = np.random.default_rng(seed)
    cell, out = RNNCell(n, hidden, rng=0), Linear(hidden, n, rng=0)
    cell.W_xh = rng.standard_normal((hidden, n)) * 0.3
    cell.W_hh, cell.b_h = rng.standard_normal((hidden, hidden)) * 0.3, np.zeros(hidden)
    out.W_hy, out.b_y = rng.standard_normal((n, hidden)) * 0.3, np.zeros(n)
    params, layer = cell.parameters() + out.parameters(), Recurrent(cell)
    optimizer, losses = SGD(params, lr=lr), []
    inputs, targets = (ids[:-1], ids[1:]) if shift else (ids, ids)
    for _ in range(steps):
        for p in params:
            p.grad[...] = 0
        H_all, _ = layer.forward(one_hot(inputs, n)[:, None], np.zeros((1, hidden)))
        loss, dY = softmax_cross_entropy(out.forward(H_all), targets[:, None])
        layer.backward(out.backward(dY))
        if clipped:
            clip_grad_norm(params, 1.0)
        for p in params if ascent else ():
            p.grad *= -1
        optimizer.step()
        losses.append(loss)
    return losses


def training_loop_parts(m) -> dict:
    def on(text: str, hidden: int, steps: int, lr: float):
        def part():
            losses = returned(m.train(text, hidden, steps, lr, 0), "train", ("the weights", "the losses"))[1]
            label = f"the losses of {steps} steps on {text[:12]!r}"
            bugs = {MISTAKES[k]: (trained(text, hidden, steps, lr, 0, **how),) for k, how in (
                ("ascent", {"ascent": True}), ("targets not shifted", {"shift": False}),
                ("not clipped", {"clipped": False}), ("vocabulary unsorted", {"first_come": True}))}
            want = trained(text, hidden, steps, lr, 0)
            report([label], (np.asarray(losses, dtype=np.float64) if isinstance(losses, list) else losses,),
                   (np.array(want),), bugs, time={label: "first"},
                   hints={label: "each step: the loss and gradients, clip(grads, 1.0), then w = w - lr * dw"})
        return part

    return {"train on 'hello'": on("hello", 8, 60, 0.5), "train on names": on(NAMES, 16, 40, 0.5)}
