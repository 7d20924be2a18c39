"""The gradlab window: Qt widgets that edit a Config, a worker thread that runs it, live plots.

Everything Qt lives here; ``gradlab.core`` stays free of Qt. Start with ``gradlab.ui.app.launch``.
"""

from gradlab.ui import _refcount_fix

_refcount_fix.apply()
