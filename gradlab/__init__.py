"""gradlab: watch gradients vanish and explode in recurrent networks, live."""

__version__ = "0.1.0"
