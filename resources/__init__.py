"""Data files shipped with gradlab (icons, desktop entry, presets); installed as ``gradlab.resources``."""
