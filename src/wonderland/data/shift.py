"""``shift_report``: does new data still come from the distribution of the training data?

Models assume the rows they will meet are drawn, independently, from the distribution
they were trained on (the i.i.d. assumption). ``shift_report`` compares each feature's
distribution in a reference sample with a new sample by a two-sample
Kolmogorov–Smirnov test and controls the false discovery rate over the features with
the Benjamini–Hochberg procedure.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._arrays import default_names, frame_names, to_array
from .dataset import Dataset, _refuse_repeated

__all__ = ["ShiftReport", "shift_report"]

_MAX_ROWS_SHOWN = 50


@dataclass(frozen=True, repr=False, eq=False)
class ShiftReport:
    """The result of :func:`shift_report`, one entry per feature.

    Attributes
    ----------
    features : list of int or str
        The features: column positions, or names when the input had them.
    feature_names : list of str
        Names for display (``x0, x1, ...`` when the input had none).
    statistic : ndarray
        The Kolmogorov–Smirnov statistic: the largest gap between the two empirical
        distribution functions, in [0, 1].
    pvalue : ndarray
        The test's p-value, feature by feature.
    pvalue_adjusted : ndarray
        Benjamini–Hochberg adjusted p-values.
    is_shifted : ndarray of bool
        ``pvalue_adjusted <= alpha``.
    shifted : list of int or str
        The features flagged as shifted (entries of ``features``).
    alpha : float
        The false discovery rate controlled.
    n_ref, n_new : int
        The rows in the two samples.

    Examples
    --------
    >>> import numpy as np
    >>> from wonderland.data import shift_report
    >>> rng = np.random.default_rng(0)
    >>> report = shift_report(rng.normal(size=(300, 2)), rng.normal(size=(300, 2)) + [0, 1])
    >>> report.shifted
    [1]
    """

    features: list[Any]
    feature_names: list[str]
    statistic: np.ndarray
    pvalue: np.ndarray
    pvalue_adjusted: np.ndarray
    alpha: float
    n_ref: int
    n_new: int
    is_shifted: np.ndarray = field(init=False)
    shifted: list[Any] = field(init=False)

    def __post_init__(self) -> None:
        mask = self.pvalue_adjusted <= self.alpha
        object.__setattr__(self, "is_shifted", mask)
        object.__setattr__(self, "shifted", [f for f, s in zip(self.features, mask) if s])

    def to_frame(self) -> Any:
        """The report as a pandas DataFrame, one row per feature.

        Columns: ``feature``, ``statistic``, ``pvalue``, ``pvalue_adjusted``,
        ``shifted``.

        Raises
        ------
        ImportError
            When pandas is not installed.

        Examples
        --------
        >>> import numpy as np
        >>> from wonderland.data import shift_report
        >>> rng = np.random.default_rng(0)
        >>> frame = shift_report(rng.normal(size=(50, 3)), rng.normal(size=(40, 3))).to_frame()
        >>> list(frame.columns), len(frame)
        (['feature', 'statistic', 'pvalue', 'pvalue_adjusted', 'shifted'], 3)
        """
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("ShiftReport.to_frame needs pandas, which is not installed: "
                              "pip install pandas (or read the report's arrays: statistic, "
                              "pvalue, pvalue_adjusted, is_shifted)") from None
        return pd.DataFrame({
            "feature": list(self.features),
            "statistic": self.statistic,
            "pvalue": self.pvalue,
            "pvalue_adjusted": self.pvalue_adjusted,
            "shifted": self.is_shifted,
        })

    def __str__(self) -> str:
        count = len(self.shifted)
        total = len(self.features)
        lines = [f"ShiftReport: {count} of {total} feature{'s' if total != 1 else ''} shifted "
                 f"(two-sample Kolmogorov-Smirnov per feature, Benjamini-Hochberg at "
                 f"alpha={self.alpha:g}; {self.n_ref} reference rows, {self.n_new} new rows)"]
        width = max([7, *(len(name) for name in self.feature_names[:_MAX_ROWS_SHOWN])])
        lines.append(f"{'feature':<{width}}  statistic    pvalue  adjusted  shifted")
        for k in range(min(total, _MAX_ROWS_SHOWN)):
            mark = "yes" if self.is_shifted[k] else ""
            lines.append(f"{self.feature_names[k]:<{width}}  {self.statistic[k]:9.4f}  "
                         f"{self.pvalue[k]:8.3g}  {self.pvalue_adjusted[k]:8.3g}  {mark:>7}"
                         .rstrip())
        if total > _MAX_ROWS_SHOWN:
            lines.append(f"... {total - _MAX_ROWS_SHOWN} more features (to_frame() shows all)")
        return "\n".join(lines)

    __repr__ = __str__


def _matrix(value: Any, name: str) -> tuple[np.ndarray, list[str] | None, list | None]:
    """The values, the feature names (strings), and the column labels as the input has them
    (a DataFrame's own labels, ``0`` and not ``"0"``, so that ``shifted`` indexes it)."""
    if isinstance(value, Dataset):
        return value.X.numpy(), list(value.feature_names), list(value.feature_names)
    names = frame_names(value)
    if names is not None:  # (a report by name must know which column a name is)
        _refuse_repeated(names, f"shift_report: {name}")
    labels = None if names is None else list(value.columns)
    return to_array(value, name, "shift_report", 2), names, labels


def shift_report(X_ref: Any, X_new: Any, alpha: float = 0.05) -> ShiftReport:
    """Flag the features whose distribution differs between a reference and a new sample.

    For each column a two-sample Kolmogorov–Smirnov test (``scipy.stats.ks_2samp``)
    compares the reference values with the new ones; the Benjamini–Hochberg procedure
    (``scipy.stats.false_discovery_control``) then adjusts the p-values, so that among
    the features flagged the expected fraction of false alarms is at most ``alpha``.

    Parameters
    ----------
    X_ref : array_like of shape (n_ref, n_features)
        The reference sample (e.g. the training data): an array, nested list, Tensor,
        pandas DataFrame or :class:`Dataset`.
    X_new : array_like of shape (n_new, n_features)
        The new sample, with the same columns.
    alpha : float
        The false discovery rate, in (0, 1).

    Returns
    -------
    ShiftReport
        ``shifted`` lists the flagged features: column positions, or names when an
        input is a DataFrame or a Dataset; ``statistic``, ``pvalue`` and
        ``pvalue_adjusted`` hold the per-feature results; printing it shows a table;
        ``to_frame()`` gives a pandas DataFrame.

    Raises
    ------
    ValueError
        When an input is not 2-D, has fewer than 2 rows or a non-finite value (the
        message names the row and column), or the two have different columns (the
        message names both shapes).

    Notes
    -----
    The test looks at one feature at a time: a change in the joint distribution that
    leaves every marginal alone (e.g. only a correlation changes) is not detected, and
    a shift in the relation between features and target (concept drift) needs the
    targets. With large samples tiny, harmless shifts become significant: read the
    statistic, not only the flag.

    Examples
    --------
    >>> import numpy as np
    >>> from wonderland.data import shift_report
    >>> rng = np.random.default_rng(0)
    >>> X_ref = rng.normal(size=(500, 3))
    >>> X_new = rng.normal(size=(400, 3))
    >>> X_new[:, 2] += 0.5          # the third feature drifts
    >>> report = shift_report(X_ref, X_new)
    >>> report.shifted
    [2]
    >>> print(report)  # doctest: +ELLIPSIS
    ShiftReport: 1 of 3 features shifted (...)
    feature  statistic    pvalue  adjusted  shifted
    x0 ...
    x2 ...yes
    """
    from scipy import stats

    where = "shift_report"
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) \
            or not (math.isfinite(float(alpha)) and 0.0 < float(alpha) < 1.0):
        raise ValueError(f"{where}: alpha is a false discovery rate in (0, 1), got {alpha!r}")
    ref, ref_names, ref_labels = _matrix(X_ref, "X_ref")
    new, new_names, new_labels = _matrix(X_new, "X_new")
    if ref.shape[1] != new.shape[1]:
        raise ValueError(f"{where}: X_ref has shape {ref.shape} and X_new has shape "
                         f"{new.shape}; they need the same number of columns (features)")
    if ref_names is not None and new_names is not None and ref_names != new_names:
        j = next(k for k, (a, b) in enumerate(zip(ref_names, new_names)) if a != b)
        raise ValueError(f"{where}: X_ref and X_new have different columns: column {j} is "
                         f"{ref_names[j]!r} in X_ref but {new_names[j]!r} in X_new")
    for name, array in (("X_ref", ref), ("X_new", new)):
        if array.shape[0] < 2:
            raise ValueError(f"{where}: {name} has {array.shape[0]} row"
                             f"{'s' if array.shape[0] != 1 else ''} (shape {array.shape}); "
                             f"the two-sample test needs at least 2 rows in each sample")
    names = ref_names if ref_names is not None else new_names
    labels = ref_labels if ref_labels is not None else new_labels
    named = names is not None  # a DataFrame's columns or a Dataset's feature_names
    if names is None:
        names = default_names(ref.shape[1])
    result = stats.ks_2samp(ref, new, axis=0)
    statistic = np.atleast_1d(np.asarray(result.statistic, dtype=np.float64))
    pvalue = np.atleast_1d(np.asarray(result.pvalue, dtype=np.float64))
    adjusted = stats.false_discovery_control(pvalue, method="bh")
    return ShiftReport(features=labels if named else list(range(ref.shape[1])),
                       feature_names=list(names), statistic=statistic, pvalue=pvalue,
                       pvalue_adjusted=np.atleast_1d(adjusted), alpha=float(alpha),
                       n_ref=int(ref.shape[0]), n_new=int(new.shape[0]))
