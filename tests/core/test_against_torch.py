"""The same gradients as PyTorch's nn.RNN / nn.LSTM / nn.GRU with autograd (skipped without torch;
CI installs torch for this file in a step of its own)."""

from __future__ import annotations

import numpy as np
import pytest

from gradlab.core import clip_grad_norm, gradients, init_params

torch = pytest.importorskip("torch")

T, B, D, H, O = 7, 3, 2, 5, 2
pytestmark = pytest.mark.usefixtures("small_chunks")


def torch_module(cell: str, activation: str, params: dict[str, np.ndarray]):
    if cell == "rnn":
        module = torch.nn.RNN(D, H, nonlinearity=activation, dtype=torch.float64)
    else:
        module = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](D, H, dtype=torch.float64)
    with torch.no_grad():
        for name in ("W_ih", "W_hh", "b_ih", "b_hh"):
            getattr(module, f"{name.lower().replace('w_', 'weight_').replace('b_', 'bias_')}_l0").copy_(
                torch.from_numpy(params[name])
            )
    return module


@pytest.mark.parametrize("loss", ["last", "sum"])
@pytest.mark.parametrize(("cell", "activation"), [("rnn", "tanh"), ("rnn", "relu"), ("lstm", "tanh"), ("gru", "tanh")])
def test_gradients_equal_torch_autograd(cell, activation, loss):
    params = init_params(cell, D, H, O, w_rec_scale=0.9, init="gaussian", seed=4)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((T, B, D))
    target = rng.standard_normal((B, O) if loss == "last" else (T, B, O))
    ours = gradients(cell, params, x, target, activation=activation, loss=loss)

    module = torch_module(cell, activation, params)
    readout = torch.nn.Linear(H, O, dtype=torch.float64)
    with torch.no_grad():
        readout.weight.copy_(torch.from_numpy(params["W_out"]))
        readout.bias.copy_(torch.from_numpy(params["b_out"]))
    # Unrolled one step at a time so that each h_t is a tensor of its own: its .grad is then the
    # total derivative through every later step, which is what gradlab's dh holds.
    states, state = [], None
    for t in range(T):
        _, state = module(torch.from_numpy(x[t : t + 1]), state)
        h_t = state[0] if cell == "lstm" else state
        h_t.retain_grad()
        states.append(h_t)
    if loss == "last":
        value = torch.nn.functional.mse_loss(readout(states[-1][0]), torch.from_numpy(target))
    else:
        value = sum(torch.nn.functional.mse_loss(readout(states[t][0]), torch.from_numpy(target[t])) for t in range(T))
    value.backward()
    hidden_grad = np.stack([h.grad[0].numpy() for h in states])

    assert ours.loss == pytest.approx(value.item(), rel=1e-12)
    np.testing.assert_allclose(ours.dh, hidden_grad, rtol=1e-9, atol=1e-14)
    theirs = {
        "W_ih": module.weight_ih_l0,
        "W_hh": module.weight_hh_l0,
        "b_ih": module.bias_ih_l0,
        "b_hh": module.bias_hh_l0,
        "W_out": readout.weight,
        "b_out": readout.bias,
    }
    for name, parameter in theirs.items():
        np.testing.assert_allclose(ours.grads[name], parameter.grad.numpy(), rtol=1e-9, atol=1e-14, err_msg=name)


@pytest.mark.parametrize("values", [[3.0, 4.0], [0.1, 0.2], [1.0, float("inf")], [1.0, float("nan")]])
def test_clip_grad_norm_equals_torch(values):
    grads = {"a": np.array(values[:1]), "b": np.array(values[1:])}
    ours, total = clip_grad_norm(grads, 1.0)
    tensors = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (values[:1], values[1:])]
    for tensor, v in zip(tensors, (values[:1], values[1:])):
        tensor.grad = torch.tensor(v, dtype=torch.float64)
    theirs = torch.nn.utils.clip_grad_norm_(tensors, 1.0)
    np.testing.assert_allclose(total, theirs.item(), rtol=1e-14)  # nan == nan, inf == inf here
    np.testing.assert_allclose(ours["a"], tensors[0].grad.numpy(), rtol=1e-14)
    np.testing.assert_allclose(ours["b"], tensors[1].grad.numpy(), rtol=1e-14)
