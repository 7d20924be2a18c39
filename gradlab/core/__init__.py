"""The gradlab simulation core: NumPy and the standard library only (no Qt, no plotting).

Public API: ``init_params``, ``gradients``, ``clip_grad_norm``, ``clip_grad_value``, ``Config``,
``run`` and the ``Frame`` it yields; ``Workspace`` for repeated ``gradients`` calls.
"""

from .clipping import clip_grad_norm, clip_grad_value
from .config import FIELDS, Config, FieldSpec
from .experiment import run
from .frame import Frame, Histogram, NonFinite
from .gradients import Gradients, gradients
from .histogram import HistogramEdges
from .inits import init_params
from .numerics import global_norm, log10_norm_per_step
from .tasks import TASK_INFO, make_batch
from .theory import gamma, sigma_max, spectral_radius, theory_slope
from .workspace import Workspace

__all__ = [
    "FIELDS",
    "TASK_INFO",
    "Config",
    "FieldSpec",
    "Frame",
    "Gradients",
    "Histogram",
    "HistogramEdges",
    "NonFinite",
    "Workspace",
    "clip_grad_norm",
    "clip_grad_value",
    "gamma",
    "global_norm",
    "gradients",
    "init_params",
    "log10_norm_per_step",
    "make_batch",
    "run",
    "sigma_max",
    "spectral_radius",
    "theory_slope",
]
