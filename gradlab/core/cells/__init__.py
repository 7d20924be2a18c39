"""Recurrent cells in PyTorch's layout: one module each, forward and hand-written BPTT side by side.

Every cell module offers ``forward(params, x, ..., workspace=None) -> Cache`` and
``backward(params, cache, dh, has_loss, cut, workspace=None) -> (dz, grads)`` with the conventions:

* ``x (T, B, D)``, time-major; ``cache.hs (T+1, B, H)`` holds h_0 … h_T (h_0 = 0 unless given).
* ``dh (T, B, H)`` enters holding ∂loss_t/∂h_t, the direct contribution of each step's loss, and
  leaves holding the *total* derivative ∂L/∂h_t (through all later steps). It is updated in place.
* ``has_loss[t]`` says whether step t has a direct loss term (lets the loop skip adding zeros).
* ``cut[t]`` stops the gradient from flowing from step t back to step t-1 (truncated BPTT).
* ``workspace`` (``gradlab.core.workspace``): where the large arrays come from, if given.
"""

from . import gru, lstm, rnn

CELL_MODULES = {"rnn": rnn, "lstm": lstm, "gru": gru}
