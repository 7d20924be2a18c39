"""The gradlab window: Qt widgets that edit a Config, a simulation process that runs it, live plots.

Everything Qt lives here; ``gradlab.core`` stays free of Qt. Start with ``gradlab.ui.app.launch``.
"""
