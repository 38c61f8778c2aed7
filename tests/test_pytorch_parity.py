"""Live parity with PyTorch (skipped when torch is not installed; CI installs torch==2.13.0).

For each cell kind x num_layers x bidirectional x lengths (PyTorch's packed
sequences), in float64: outputs, final states and the gradients of a random loss
with respect to the inputs, the initial states and every parameter agree to 1e-10.
"""

import warnings

import numpy as np
import pytest

import seqnn
from seqnn import interop
from seqnn.models import CharLM, SequenceClassifier, SequenceTagger

from conftest import CELL_KINDS, assert_same_run, stack_run_torch_names

torch = pytest.importorskip("torch")
TOL = 1e-10

KINDS = CELL_KINDS                      # name -> (the stack's cell kind, options)


def parts(state):
    return state if isinstance(state, tuple) else (state,)


def torch_run(module, X, state0, lengths, dout, dfinal, state_names) -> dict:
    """Forward and backward in PyTorch, named as ``conftest.layer_run`` names a seqnn run."""
    Xt = torch.tensor(X, requires_grad=True)
    s0 = tuple(torch.tensor(s, requires_grad=True) for s in parts(state0))
    hx = s0 if len(s0) == 2 else s0[0]
    if lengths is None:
        out, final = module(Xt, hx)
    else:
        packed = torch.nn.utils.rnn.pack_padded_sequence(Xt, torch.tensor(lengths), enforce_sorted=False)
        out, final = module(packed, hx)
        out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, total_length=X.shape[0])
    loss = (out * torch.tensor(dout)).sum() + sum((f * torch.tensor(d)).sum()
                                                  for f, d in zip(parts(final), parts(dfinal)))
    module.zero_grad()
    loss.backward()
    run = {"H": out.detach().numpy(), "dX": Xt.grad.numpy()}
    run.update({f"final.{n}": f.detach().numpy() for n, f in zip(state_names, parts(final), strict=True)})
    run.update({f"dstate0.{n}": s.grad.numpy() for n, s in zip(state_names, s0, strict=True)})
    run.update({f"grad.{n}": p.grad.numpy() for n, p in module.named_parameters()})
    return run


@pytest.mark.parametrize("with_lengths", [False, True], ids=["full", "packed"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("kind", KINDS)
def test_parity_with_pytorch(kind, num_layers, bidirectional, with_lengths):
    cell, extra = KINDS[kind]
    rng = np.random.default_rng(7)
    T, B, D, H = 6, 4, 5, 3
    stack = seqnn.RecurrentStack(cell, D, H, num_layers, bidirectional, rng=1, **extra)
    module = interop.torch_module(stack)
    assert next(module.parameters()).dtype == torch.float64

    n = num_layers * stack.num_directions
    X = rng.standard_normal((T, B, D))
    state0 = tuple(rng.standard_normal((n, B, H)) for _ in stack.state_names)
    state0 = state0 if len(state0) == 2 else state0[0]
    lengths = np.array([6, 2, 5, 1]) if with_lengths else None
    dout = rng.standard_normal((T, B, stack.output_size))
    if with_lengths:
        dout *= (np.arange(T)[:, None] < lengths)[:, :, None]      # padded outputs are zero in both
    dfinal = tuple(rng.standard_normal((n, B, H)) for _ in stack.state_names)
    dfinal = dfinal if len(dfinal) == 2 else dfinal[0]

    want = torch_run(module, X, state0, lengths, dout, dfinal, stack.state_names)
    got = stack_run_torch_names(stack, X, state0, dout, dfinal, lengths)
    assert_same_run(got, want, rtol=0, atol=TOL, what="seqnn vs live PyTorch")


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("kind", KINDS)
def test_round_trip_seqnn_torch_seqnn(kind, bidirectional):
    cell, extra = KINDS[kind]
    stack = seqnn.RecurrentStack(cell, 4, 3, 2, bidirectional, rng=2, **extra)
    module = interop.torch_module(stack)
    back = interop.from_torch(module)
    assert back.kind == stack.kind and back.num_layers == 2 and back.bidirectional == bidirectional
    assert back.layers[0].cell.extra_repr() == stack.layers[0].cell.extra_repr()
    for (n, p), (m, q) in zip(stack.named_parameters(), back.named_parameters()):
        assert n == m and np.array_equal(p.value, q.value), n
    X = np.random.default_rng(0).standard_normal((5, 2, 4))
    for a, b in zip(parts(stack.forward(X)[1]), parts(back.forward(X)[1])):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("kind", KINDS)
def test_from_a_pytorch_module_with_two_nonzero_biases(kind):
    """PyTorch's two biases are merged into b_h (GRU: the n block of bias_hh becomes b_hn)."""
    cell, extra = KINDS[kind]
    torch.manual_seed(0)
    cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
    module = cls(4, 3, num_layers=2, bidirectional=True, **extra).double()
    stack = interop.from_torch(module)
    X = np.random.default_rng(0).standard_normal((5, 2, 4))
    with torch.no_grad():
        t_out, _ = module(torch.tensor(X))
    np.testing.assert_allclose(stack.forward(X)[0], t_out.numpy(), rtol=0, atol=TOL)
    exported = interop.to_torch(stack)                 # b_h in bias_ih, zeros (GRU: b_hn) in bias_hh
    assert set(exported) == set(module.state_dict())
    module.load_state_dict(exported)                   # the other way: same outputs after export
    with torch.no_grad():
        np.testing.assert_allclose(module(torch.tensor(X))[0].numpy(), t_out.numpy(), rtol=0, atol=TOL)


def test_from_state_dict_infers_the_architecture():
    module = torch.nn.GRU(4, 3, num_layers=2, bidirectional=True, bias=False).double()
    stack = interop.from_torch(module.state_dict())
    assert (stack.kind, stack.num_layers, stack.bidirectional, stack.layers[0].cell.bias) == ("gru", 2, True, False)
    relu = interop.from_torch(torch.nn.RNN(4, 3, nonlinearity="relu").state_dict(), nonlinearity="relu")
    assert relu.layers[0].cell.nonlinearity == "relu" and relu.dtype == np.float32
    with pytest.raises(ValueError, match="kind: the weights have 3 gates, which is not a 'lstm'"):
        interop.from_torch(module.state_dict(), kind="lstm")


@pytest.mark.parametrize("Model", [CharLM, SequenceTagger, SequenceClassifier])
def test_a_trained_model_predicts_the_same_in_pytorch(Model):
    rng = np.random.default_rng(0)
    if Model is CharLM:
        model = Model(6, 8, cell="lstm", num_layers=2, rng=0)
        ids = rng.integers(0, 6, (9, 3))
        targets = rng.integers(0, 6, (9, 3))
    else:
        model = Model(6, 3, 8, cell="gru", embedding_dim=4, bidirectional=True, rng=0)
        ids = rng.integers(0, 6, (9, 3))
        targets = rng.integers(0, 3, (9, 3) if Model is SequenceTagger else (3,))
    opt = seqnn.Adam(model.parameters(), lr=0.01)
    for _ in range(20):
        seqnn.train.train_step(model, (ids,), targets, optimizer=opt)
    twin = interop.torch_module(model)
    with torch.no_grad():
        t_logits = twin(torch.tensor(ids))
    t_logits = t_logits[0] if isinstance(t_logits, tuple) else t_logits
    logits = model.forward(ids)
    logits = logits[0] if isinstance(logits, tuple) else logits
    np.testing.assert_allclose(logits, t_logits.numpy(), rtol=0, atol=TOL)
    assert np.array_equal(np.argmax(logits, -1), np.argmax(t_logits.numpy(), -1))


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_training_both_libraries_gives_the_same_model_with_seqnn_parameters(kind):
    """Adam and clipping, 30 steps from the same weights on the same batches: the same weights
    in both libraries (float64), as long as PyTorch's second bias is kept where seqnn has none."""
    rng = np.random.default_rng(3)
    batches = [rng.integers(0, 7, (6, 4)) for _ in range(30)]

    def train_twin(params_of):
        model = CharLM(7, 5, cell=kind, rng=0)
        twin = interop.torch_module(model)
        opt = torch.optim.Adam(params_of(twin), lr=0.05)
        for ids in batches:
            logits, _ = twin(torch.tensor(ids[:-1]))
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 7), torch.tensor(ids[1:]).reshape(-1))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(twin.parameters(), 1.0)
            opt.step()
        return twin

    model = CharLM(7, 5, cell=kind, rng=0)
    opt = seqnn.Adam(model.parameters(), lr=0.05)
    for ids in batches:
        seqnn.train.train_step(model, (ids[:-1],), ids[1:], optimizer=opt, clip_norm=1.0)
    want = interop.to_torch(model)

    def apart(twin):
        return max(float((twin.state_dict()[k] - v).abs().max()) for k, v in want.items())

    assert apart(train_twin(interop.seqnn_parameters)) < 1e-10
    assert apart(train_twin(lambda twin: twin.parameters())) > 1e-3       # both biases trained: another model
    twin = train_twin(interop.seqnn_parameters)
    H = 5
    bias_hh = twin.rnn.bias_hh_l0.detach()
    assert float(bias_hh[:2 * H].abs().max() if kind == "gru" else bias_hh.abs().max()) == 0.0


def test_from_torch_refuses_batch_first_and_warns_about_an_unnamed_nonlinearity():
    with pytest.raises(ValueError, match="batch_first=True module reads \\(B, T, D\\); seqnn's layers are time-major"):
        interop.from_torch(torch.nn.GRU(3, 4, batch_first=True))
    stack = interop.from_torch(torch.nn.GRU(3, 4, batch_first=True).state_dict())   # the weights are the same
    assert stack.kind == "gru"
    with pytest.warns(UserWarning, match="nonlinearity: not given, so this vanilla RNN's state_dict is read as tanh"):
        interop.from_torch(torch.nn.RNN(3, 4, nonlinearity="relu").state_dict())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        interop.from_torch(torch.nn.RNN(3, 4).state_dict(), nonlinearity="tanh")     # said: no warning
        interop.from_torch(torch.nn.LSTM(3, 4).state_dict())                         # not a vanilla RNN


def test_state_dict_errors_name_pytorch_keys():
    stack = seqnn.LSTM(3, 4, rng=0)
    state = interop.to_torch(stack)
    wrong = dict(state, weight_hh_l0=torch.zeros(16, 5, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"state: weight_hh_l0 has shape \(16, 5\), this stack needs \(16, 4\)"):
        interop.load_stack_state_dict(stack, wrong)
    with pytest.raises(ValueError, match=r"missing \['bias_hh_l0'\], unexpected \['bias_hh_l9'\]"):
        interop.load_stack_state_dict(stack, {**{k: v for k, v in state.items() if k != "bias_hh_l0"},
                                              "bias_hh_l9": state["bias_hh_l0"]})
    with pytest.raises(ValueError, match="source: expected PyTorch RNN/LSTM/GRU keys such as 'weight_ih_l0'"):
        interop.from_torch({"weight": torch.zeros(3, 3)})
