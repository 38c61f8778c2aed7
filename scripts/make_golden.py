"""Generate tests/data/golden.npz: small fixtures computed by PyTorch, checked by
tests/test_golden.py on every run (no torch needed there).

    pip install torch==2.13.0 && python scripts/make_golden.py

Each case is a PyTorch nn.RNN/LSTM/GRU in float64 with weights whose gate blocks
have different scales and both biases non-zero, so that a wrong gate order or a
dropped bias gives different numbers. Stored per case: the weights (PyTorch
names), X, initial states, lengths, the upstream gradients, and PyTorch's
outputs, final states and gradients (inputs, initial states, every parameter).
"""

from pathlib import Path

import numpy as np
import torch

CASES = {
    # name: (torch class, kwargs, T, B, D, H, lengths or None)
    "rnn_tanh": (torch.nn.RNN, dict(num_layers=1), 5, 2, 3, 4, None),
    "rnn_relu": (torch.nn.RNN, dict(num_layers=2, nonlinearity="relu", bidirectional=True), 5, 3, 3, 4, [5, 3, 1]),
    "lstm": (torch.nn.LSTM, dict(num_layers=2, bidirectional=True), 5, 3, 3, 4, [5, 3, 1]),
    "lstm_uni": (torch.nn.LSTM, dict(num_layers=1), 4, 2, 3, 4, None),
    "gru": (torch.nn.GRU, dict(num_layers=2, bidirectional=True), 5, 3, 3, 4, [5, 3, 1]),
    "gru_uni": (torch.nn.GRU, dict(num_layers=1), 4, 2, 3, 4, None),
}
OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "golden.npz"


def distinct_gates(module, H, rng):
    """Gate block k of every weight scaled by 0.4 + 0.3 k, biases shifted per gate: orders are told apart."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            G = p.shape[0] // H
            values = rng.standard_normal(tuple(p.shape)) * 0.5
            for k in range(G):
                values[k * H:(k + 1) * H] *= 0.4 + 0.3 * k
                if name.startswith("bias"):
                    values[k * H:(k + 1) * H] += 0.2 * (k - 1)
            p.copy_(torch.tensor(values))


def run_case(cls, kwargs, T, B, D, H, lengths, rng):
    torch.manual_seed(0)
    module = cls(D, H, **kwargs).double()
    distinct_gates(module, H, rng)
    dirs = 2 if module.bidirectional else 1
    n = module.num_layers * dirs
    is_lstm = cls is torch.nn.LSTM
    X = torch.tensor(rng.standard_normal((T, B, D)), requires_grad=True)
    h0 = torch.tensor(rng.standard_normal((n, B, H)), requires_grad=True)
    c0 = torch.tensor(rng.standard_normal((n, B, H)), requires_grad=True) if is_lstm else None
    hx = (h0, c0) if is_lstm else h0
    if lengths is None:
        out, final = module(X, hx)
    else:
        packed = torch.nn.utils.rnn.pack_padded_sequence(X, torch.tensor(lengths), enforce_sorted=False)
        out, final = module(packed, hx)
        out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, total_length=T)
    finals = final if is_lstm else (final,)
    dout = rng.standard_normal(tuple(out.shape))
    if lengths is not None:
        dout *= (np.arange(T)[:, None] < np.array(lengths))[:, :, None]
    dfinals = [rng.standard_normal(tuple(f.shape)) for f in finals]
    loss = (out * torch.tensor(dout)).sum() + sum((f * torch.tensor(d)).sum() for f, d in zip(finals, dfinals))
    loss.backward()

    case = {"X": X.detach().numpy(), "h0": h0.detach().numpy(), "out": out.detach().numpy(), "dout": dout,
            "h_n": finals[0].detach().numpy(), "dh_n": dfinals[0], "dX": X.grad.numpy(), "dh0": h0.grad.numpy()}
    if is_lstm:
        case.update(c0=c0.detach().numpy(), c_n=finals[1].detach().numpy(), dc_n=dfinals[1], dc0=c0.grad.numpy())
    if lengths is not None:
        case["lengths"] = np.array(lengths)
    for name, p in module.named_parameters():
        case["w." + name] = p.detach().numpy()
        case["g." + name] = p.grad.numpy()
    case["nonlinearity"] = np.array(kwargs.get("nonlinearity", "tanh"))
    return case


def main():
    rng = np.random.default_rng(2024)
    arrays = {}
    for name, spec in CASES.items():
        for key, value in run_case(*spec, rng).items():
            arrays[f"{name}/{key}"] = value
    arrays["torch_version"] = np.array(torch.__version__)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {len(CASES)} cases to {OUT} (torch {torch.__version__})")


if __name__ == "__main__":
    main()
