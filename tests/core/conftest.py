"""Fixtures of the core tests."""

from __future__ import annotations

import pytest

from gradlab.core.cells import gru, helper, lstm, rnn


@pytest.fixture
def small_chunks(monkeypatch):
    """Make the backward passes' time chunks 4 steps long and their weight-gradient spans 8, so
    that short test sequences cross chunk and span boundaries and end on a partial chunk."""
    monkeypatch.setattr(helper, "SPAN", 8)
    monkeypatch.setattr(lstm, "CHUNK", 4)
    monkeypatch.setattr(gru, "CHUNK", 4)
    monkeypatch.setattr(rnn, "CHUNK", 4)
