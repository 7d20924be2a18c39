"""Gate-bias initialisations: today's unit forget bias by default, PyTorch's zero, and chrono."""

from __future__ import annotations

import numpy as np
import pytest

from gradlab.core import Config, run
from gradlab.core.inits import LSTM_FORGET_BIAS, init_params

H = 256


def biases(cell: str, choice: str, seq_len: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Total bias (b_ih + b_hh) of the forget / update gate block and of the LSTM's input gate."""
    params = init_params(cell, 2, H, 1, seed=3, forget_bias_init=choice, seq_len=seq_len)
    total = params["b_ih"] + params["b_hh"]
    return total[H : 2 * H], total[:H]


def test_default_is_todays_unit_forget_bias_and_zero_is_pytorchs():
    assert Config().forget_bias_init == "one"
    one = init_params("lstm", 2, H, 1, seed=3)
    zero = init_params("lstm", 2, H, 1, seed=3, forget_bias_init="zero")
    np.testing.assert_array_equal(one["b_ih"][H : 2 * H], zero["b_ih"][H : 2 * H] + LSTM_FORGET_BIAS)
    for name in ("W_ih", "W_hh", "b_hh", "W_out"):
        np.testing.assert_array_equal(one[name], zero[name])
    # the GRU and the vanilla RNN are what they were for "one" and "zero"
    for cell in ("gru", "rnn"):
        a, b = init_params(cell, 2, 8, 1, seed=1), init_params(cell, 2, 8, 1, seed=1, forget_bias_init="zero")
        for name in a:
            np.testing.assert_array_equal(a[name], b[name])


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_chrono_spreads_time_constants_over_the_sequence(cell):
    forget, input_gate = biases(cell, "chrono", seq_len=100)
    assert forget.min() >= 0.0 and forget.max() <= np.log(99.0)
    # log U[1, 99]: exp(b) is uniform on [1, 99]
    assert np.mean(np.exp(forget)) == pytest.approx(50.0, rel=0.1)
    if cell == "lstm":
        np.testing.assert_array_equal(input_gate, -forget)
    tau = -1.0 / np.log(1.0 / (1.0 + np.exp(-forget)))
    assert tau.max() > 30 and tau.min() < 2


def test_chrono_opens_the_lstm_cell_path():
    base = Config(cell="lstm", task="adding", hidden_size=64, seq_len=100, iterations=1)
    slopes = {c: next(run(base.replace(forget_bias_init=c))) for c in ("zero", "one", "chrono")}
    assert slopes["zero"].fitted_slope < slopes["one"].fitted_slope < slopes["chrono"].fitted_slope
    assert np.mean(slopes["chrono"].gate_mean) > np.mean(slopes["one"].gate_mean) > np.mean(slopes["zero"].gate_mean)


def test_bad_value_is_refused_with_the_allowed_ones():
    with pytest.raises(ValueError, match="forget_bias_init.*one, zero, chrono"):
        Config(forget_bias_init="two")
