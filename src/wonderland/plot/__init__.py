"""``wl.plot``: the text's figures with matplotlib (headless Agg unless an interactive
backend is already in use). Each function returns a Figure and takes ``ax=``.

- descent: ``contour_paths`` (paths over the contour of a 2-D function), ``loss_curve``,
  ``grad_norms``;
- models: ``regression_fit`` (data, fitted line or plane, residuals) and
  ``decision_boundary`` (the 0.5 contour over the predicted probability).
"""

import matplotlib

# a GUI backend on a machine without a display would fail: Agg instead; Jupyter's inline
# backend (and any other ``module://`` one) is left alone, or no figure would show
_backend = matplotlib.get_backend().lower()
if _backend not in ("agg", "pdf", "svg", "ps", "cairo") and \
        not _backend.startswith("module://") and not matplotlib.is_interactive():
    matplotlib.use("Agg")

from .descent import contour_paths, grad_norms, loss_curve  # noqa: E402
from .models import decision_boundary, regression_fit  # noqa: E402

__all__ = ["contour_paths", "loss_curve", "grad_norms", "regression_fit", "decision_boundary"]
