"""Data: checked datasets, synthetic generators, bundled datasets, CSV files, shift tests.

``Dataset(X, y)`` holds features and targets as Tensors, with minibatches and a
train/test split; ``make_linear``, ``make_collinear`` and ``make_classification`` make
synthetic data; ``load_diabetes`` and ``load_breast_cancer`` read the copies shipped with
scikit-learn; ``read_csv`` reads a CSV file with a header (``read_table`` its columns
without a target); ``shift_report`` tests, feature
by feature, whether new data still look like the reference data.
"""

from .dataset import Dataset
from .loaders import load_breast_cancer, load_diabetes, read_csv, read_table
from .shift import ShiftReport, shift_report
from .synthetic import make_classification, make_collinear, make_linear

__all__ = [
    "Dataset", "make_linear", "make_collinear", "make_classification", "load_diabetes",
    "load_breast_cancer", "read_csv", "read_table", "shift_report", "ShiftReport",
]
