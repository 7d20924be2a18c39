"""Fixtures of the core tests."""

from __future__ import annotations

import pytest

from gradlab.core.cells import gru, lstm, rnn


@pytest.fixture
def small_chunks(monkeypatch):
    """Make the backward passes' time chunks 4 steps long, so that short test sequences cross
    chunk boundaries and end on a partial chunk."""
    monkeypatch.setattr(lstm, "CHUNK", 4)
    monkeypatch.setattr(gru, "CHUNK", 4)
    monkeypatch.setattr(rnn, "CHUNK", 4)
