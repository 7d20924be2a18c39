"""The Qt binding this project runs on does not leak references to None or True.

PySide6-Essentials 6.12.0 on CPython < 3.12 dropped one reference to None on every call of a
void C++ method and one to True on every signal emission, aborting the interpreter
("none_dealloc") after a few seconds of plotting; pyproject.toml excludes it. This test catches
such a binding if it is ever installed again.
"""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel


class _Emitter(QObject):
    fired = Signal(bool)


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None and True are immortal from Python 3.12 on")
def test_void_calls_and_emits_keep_reference_counts(qapp):
    label = QLabel()
    emitter = _Emitter()
    emitter.fired.connect(lambda value: None)
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(2000):
        label.setText("x")
        emitter.fired.emit(True)
    assert abs(sys.getrefcount(None) - none_before) < 100
    assert abs(sys.getrefcount(True) - true_before) < 100
