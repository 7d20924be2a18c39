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


def torch_mlp(activation: str, residual: float, norm: str, params: dict[str, np.ndarray], x: np.ndarray):
    """The same deep net built from nn.Linear, the activation and BatchNorm1d / LayerNorm; returns
    the output and each layer's h_l (retaining its gradient)."""
    phi = {
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
        "relu": torch.relu,
        "linear": lambda a: a,
    }[activation]
    depth = params["W_hh"].shape[0] + 1
    linears = []
    for layer in range(depth):
        weight = params["W_ih"] if layer == 0 else params["W_hh"][layer - 1]
        bias = params["b_ih"] if layer == 0 else params["b_hh"][layer - 1]
        linear = torch.nn.Linear(weight.shape[1], weight.shape[0], dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(weight))
            linear.bias.copy_(torch.from_numpy(bias))
        linears.append(linear)
    norms = []
    for layer in range(depth):
        if norm == "none":
            break
        module = (
            torch.nn.BatchNorm1d(H, dtype=torch.float64)
            if norm == "batch"
            else torch.nn.LayerNorm(H, dtype=torch.float64)
        )
        module.train()
        with torch.no_grad():
            module.weight.copy_(torch.from_numpy(params["norm_gain"][layer]))
            module.bias.copy_(torch.from_numpy(params["norm_shift"][layer]))
        norms.append(module)
    readout = torch.nn.Linear(H, O, dtype=torch.float64)
    with torch.no_grad():
        readout.weight.copy_(torch.from_numpy(params["W_out"]))
        readout.bias.copy_(torch.from_numpy(params["b_out"]))
    h = torch.from_numpy(x)
    states = []
    for layer in range(depth):
        a = linears[layer](h)
        u = norms[layer](a) if norms else a
        h = h + residual * phi(u) if residual and layer > 0 else phi(u)
        h.retain_grad()
        states.append(h)
    return readout(h), states, linears, norms


@pytest.mark.parametrize("norm", ["none", "batch", "layer"])
@pytest.mark.parametrize("residual", [0.0, 1.0])
@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu", "linear"])
def test_mlp_gradients_equal_torch_autograd(activation, residual, norm):
    depth, batch = 6, 8
    params = init_params("mlp", D, H, O, w_rec_scale=1.1, init="he", seed=5, seq_len=depth, norm=norm, bias_scale=0.2)
    rng = np.random.default_rng(3)
    if norm != "none":
        params["norm_gain"] = 1.0 + 0.2 * rng.standard_normal(params["norm_gain"].shape)
        params["norm_shift"] = 0.2 * rng.standard_normal(params["norm_shift"].shape)
    x = rng.standard_normal((batch, D))
    target = rng.standard_normal((batch, O))
    ours = gradients("mlp", params, x, target, activation=activation, residual=residual, norm=norm)

    output, states, linears, norms = torch_mlp(activation, residual, norm, params, x)
    value = torch.nn.functional.mse_loss(output, torch.from_numpy(target))
    value.backward()

    assert ours.loss == pytest.approx(value.item(), rel=1e-12)
    np.testing.assert_allclose(ours.dh, np.stack([h.grad.numpy() for h in states]), rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(ours.grads["W_ih"], linears[0].weight.grad.numpy(), rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(ours.grads["b_ih"], linears[0].bias.grad.numpy(), rtol=1e-9, atol=1e-14)
    for layer in range(1, depth):
        np.testing.assert_allclose(
            ours.grads["W_hh"][layer - 1], linears[layer].weight.grad.numpy(), rtol=1e-9, atol=1e-14
        )
        np.testing.assert_allclose(
            ours.grads["b_hh"][layer - 1], linears[layer].bias.grad.numpy(), rtol=1e-9, atol=1e-14
        )
    for layer, module in enumerate(norms):
        np.testing.assert_allclose(ours.grads["norm_gain"][layer], module.weight.grad.numpy(), rtol=1e-9, atol=1e-14)
        np.testing.assert_allclose(ours.grads["norm_shift"][layer], module.bias.grad.numpy(), rtol=1e-9, atol=1e-14)
