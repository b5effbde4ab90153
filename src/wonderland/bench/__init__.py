"""``wonderland bench``: wonderland's speed and memory against its limits and its peers.

The workloads W1–W8 (:mod:`.workloads`), each with its limit (the hand-written NumPy or
plain-Python version of the same work) and, where installed, its peers (PyTorch eager,
JAX eager and jit, HIPS autograd, scikit-learn), timed in interleaved rounds in one
process (:mod:`.runner`) and reported as a table, JSON and a bar chart (:mod:`.report`).

Examples
--------
>>> from wonderland.bench import WORKLOADS, PEERS
>>> list(WORKLOADS)
['W1', 'W2', 'W3', 'W4', 'W5', 'W6', 'W7', 'W8']
>>> list(PEERS)
['torch', 'jax', 'jax-jit', 'autograd', 'sklearn']
"""

from .peers import PEERS
from .report import format_table, plot_ratios, read_json, write_json
from .runner import run_bench, run_workload
from .workloads import WORKLOADS

__all__ = ["PEERS", "WORKLOADS", "format_table", "plot_ratios", "read_json", "run_bench",
           "run_workload", "write_json"]
