"""The malloc tuning at import: on glibc, repeated arrays of a step reuse heap pages."""

import os
import subprocess
import sys

import pytest

GLIBC = sys.platform.startswith("linux") and os.confstr("CS_GNU_LIBC_VERSION") is not None

# a step that frees several 800 KB arrays at once, as a reverse pass does
STEP = """
import resource, numpy as np, wonderland as wl
x = wl.tensor(np.ones(100_000), requires_grad=True)
def step():
    ((x * 2.0 - 1.0) ** 2).sum().backward()
    x.grad = None
step(); step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    step()
print(wl.allocator.tuned, (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20)
"""


def _run(env_value: str | None) -> tuple[str, float]:
    env = dict(os.environ)
    env.pop("WONDERLAND_MALLOC_TUNING", None)
    if env_value is not None:
        env["WONDERLAND_MALLOC_TUNING"] = env_value
    out = subprocess.run([sys.executable, "-c", STEP], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    return out[0], float(out[1])


@pytest.mark.skipif(not GLIBC, reason="the tuning applies to glibc only")
def test_tuned_steps_do_not_fault_fresh_pages():
    tuned, faults = _run(None)
    assert tuned == "True"
    # one 800 KB array freshly mapped is about 200 page faults
    assert faults < 50


@pytest.mark.skipif(not GLIBC, reason="the tuning applies to glibc only")
def test_the_environment_variable_turns_it_off():
    tuned, faults = _run("0")
    assert tuned == "False"
    assert faults > 150  # the faults the tuning removes: the test above can fail
