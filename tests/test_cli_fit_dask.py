"""``wonderland fit --dask``, end to end on CSV files (split over several files, read by
a glob) and Parquet written here, and each bad input as one line and exit status 2.

Most runs connect to one cluster started by the module (``--scheduler``); one run starts
its own ``LocalCluster`` (``--workers``, ``--memory-limit``) in a subprocess.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, Ridge

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")

from wonderland.cli.fit_dask import Progress  # noqa: E402
from wonderland.cli.main import main  # noqa: E402


@pytest.fixture(scope="module")
def cluster():
    # spawned workers (Dask's default): forking a test process that already runs threads
    # can leave a worker deadlocked
    cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                       memory_limit="1GiB", dashboard_address=None)
    yield cluster
    cluster.close()


def _write_parts(folder: Path, header: list[str], table: np.ndarray, parts: int = 3) -> str:
    folder.mkdir(exist_ok=True)
    for k, rows in enumerate(np.array_split(table, parts)):
        lines = [",".join(header)] + [",".join(repr(float(v)) for v in row) for row in rows]
        (folder / f"part{k}.csv").write_text("\n".join(lines) + "\n")
    return str(folder / "part*.csv")


@pytest.fixture
def houses(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = X @ [1.0, -2.0, 0.5] + 3.0 + 0.1 * rng.normal(size=300)
    return _write_parts(tmp_path / "houses", ["rooms", "age", "area", "price"],
                        np.column_stack([X, y])), X, y


def _run(capsys, *args: str) -> tuple[int, str, str]:
    status = main(["fit", *args])
    out, err = capsys.readouterr()
    return status, out, err


def _coefficients(out: str, names: list[str]) -> list[float]:
    lines = out.splitlines()
    return [float(next(ln for ln in lines if ln.split()[:1] == [n]).split()[1])
            for n in names]


def test_glob_of_csvs_on_a_running_scheduler(cluster, houses, tmp_path, capsys):
    pattern, X, y = houses
    save = tmp_path / "model.json"
    status, out, err = _run(capsys, pattern, "--target", "price", "--model", "ridge",
                            "--alpha", "0.5", "--test-size", "0", "--save", str(save),
                            "--dask", "--scheduler", cluster.scheduler_address)
    assert status == 0, err
    assert err == ""
    assert f"Ridge on {pattern}: 300 rows, 3 features, target 'price'" in out
    assert "dask: 3 blocks on 2 workers" in out
    reference = Ridge(alpha=0.5).fit(X, y)
    assert _coefficients(out, ["rooms", "age", "area"]) == pytest.approx(reference.coef_,
                                                                          rel=1e-5)
    assert "train (300 rows): R2 0.99" in out
    # the saved model loads and predicts without Dask
    code = ("import sys; sys.modules['dask'] = None; import wonderland.linear as wll; "
            f"m = wll.load({str(save)!r}); print(m.predict([[0.0, 0.0, 0.0]])[0])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert float(done.stdout) == pytest.approx(reference.intercept_, rel=1e-5)


def test_local_cluster_classifier_with_a_test_split(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 2))
    y = (X[:, 0] - X[:, 1] + 0.3 * rng.normal(size=400) > 0).astype(float)
    pattern = _write_parts(tmp_path / "spam", ["links", "caps", "spam"],
                           np.column_stack([X, y]), parts=2)
    done = subprocess.run(
        [sys.executable, "-m", "wonderland", "fit", pattern, "--target", "spam", "--model",
         "logistic", "--dask", "--workers", "1", "--memory-limit", "1GB", "--save",
         str(tmp_path / "m.npz")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no progress display, no log lines: stdout is piped
    assert "\r" not in done.stdout
    assert "dask: 2 blocks on 1 worker (a local cluster)" in done.stdout
    train = next(ln for ln in done.stdout.splitlines() if ln.startswith("train ("))
    test = next(ln for ln in done.stdout.splitlines() if ln.startswith("test ("))
    n_train, n_test = (int(ln.split("(")[1].split()[0]) for ln in (train, test))
    assert n_train + n_test == 400 and 60 <= n_test <= 140  # about a quarter
    assert "accuracy" in test and "log-loss" in test
    accuracy = float(test.split("accuracy ")[1].split(",")[0])
    assert accuracy > 0.85
    assert LogisticRegression().fit(X, y).score(X, y) > 0.85
    assert (tmp_path / "m.npz").exists()


def test_parquet(cluster, houses, tmp_path, capsys):
    pytest.importorskip("pyarrow")
    import pandas as pd

    _, X, y = houses
    frame = pd.DataFrame(X, columns=["rooms", "age", "area"]).assign(price=y)
    frame.to_parquet(tmp_path / "houses.parquet")
    status, out, err = _run(capsys, str(tmp_path / "houses.parquet"), "--target", "price",
                            "--model", "linear", "--test-size", "0", "--save",
                            str(tmp_path / "m.json"), "--dask", "--scheduler",
                            cluster.scheduler_address)
    assert status == 0, err
    reference = Ridge(alpha=0.0).fit(X, y)
    assert _coefficients(out, ["rooms", "age", "area"]) == pytest.approx(reference.coef_,
                                                                          rel=1e-5)


@pytest.mark.parametrize("cell, message", [
    ("", r"an empty cell in file '.*part1\.csv' \(block/partition 1\), row 7 .*column 'age'"),
    ("abc", r"a non-numeric value 'abc' in file '.*part1\.csv' .*row 7 .*column 'age'"),
])
def test_bad_cell_names_the_file_row_and_column(cluster, tmp_path, capsys, cell, message):
    rows = np.arange(60.0).reshape(20, 3)
    pattern = _write_parts(tmp_path / "bad", ["rooms", "age", "price"], rows, parts=2)
    part = tmp_path / "bad" / "part1.csv"
    lines = part.read_text().splitlines()
    fields = lines[8].split(",")  # the header, then rows 0..: row 7 of this file
    fields[1] = cell
    lines[8] = ",".join(fields)
    part.write_text("\n".join(lines) + "\n")
    status, out, err = _run(capsys, pattern, "--target", "price", "--model", "ridge",
                            "--dask", "--scheduler", cluster.scheduler_address,
                            "--save", str(tmp_path / "m.json"))
    assert status == 2 and out == ""
    assert len(err.splitlines()) == 1
    assert err.startswith("wonderland fit: error: ")
    assert re.search(message, err), err


def test_bad_inputs_are_one_line_and_status_2(houses, tmp_path, capsys):
    pattern, _, _ = houses
    cases = [
        ([str(tmp_path / "nothing*.csv"), "--dask"], "no file matches"),
        ([str(tmp_path / "missing.csv"), "--dask"], "no such file"),
        ([pattern, "--dask", "--target", "cost"],
         "no column 'cost' in .*; the columns are: rooms, age, area, price"),
        ([pattern, "--workers", "2"], "argument --workers: only with --dask"),
        ([pattern, "--scheduler", "tcp://127.0.0.1:1"], "argument --scheduler: only with"),
        ([pattern, "--memory-limit", "1GB"], "argument --memory-limit: only with --dask"),
        ([pattern, "--dask", "--scheduler", "tcp://127.0.0.1:1", "--workers", "2"],
         "argument --workers: not with --scheduler"),
        ([pattern, "--dask", "--memory-limit", "lots"], "argument --memory-limit: must be"),
    ]
    for args, message in cases:
        if "--target" not in args:
            args = [*args, "--target", "price"]
        status, out, err = _run(capsys, *args, "--model", "ridge", "--save",
                                str(tmp_path / "m.json"))
        assert status == 2, (args, err)
        assert len(err.splitlines()) == 1 and "Traceback" not in err
        assert re.search(message, err), (message, err)


def test_unreachable_scheduler_fails_fast(houses, tmp_path, capsys):
    pattern, _, _ = houses
    start = time.monotonic()
    status, out, err = _run(capsys, pattern, "--target", "price", "--model", "ridge",
                            "--dask", "--scheduler", "tcp://127.0.0.1:1", "--save",
                            str(tmp_path / "m.json"))
    assert status == 2
    assert "cannot reach the Dask scheduler at 'tcp://127.0.0.1:1'" in err
    assert len(err.splitlines()) == 1
    assert time.monotonic() - start < 20


def test_dask_missing(houses, tmp_path):
    pattern, _, _ = houses
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "dask").mkdir()
    (blocker / "dask" / "__init__.py").write_text("raise ImportError('No module named dask')\n")
    env = {"PYTHONPATH": str(blocker), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "wonderland", "fit", pattern, "--target",
                           "price", "--model", "ridge", "--dask"], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith("wonderland fit: error: --dask needs dask")
    assert len(done.stderr.splitlines()) == 1


def test_progress_display_only_on_a_terminal(cluster):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    with distributed.Client(cluster.scheduler_address) as client:
        screen, pipe = Terminal(), io.StringIO()
        with Progress(client, screen, interval=0.05), Progress(client, pipe):
            client.submit(time.sleep, 0.5).result()
    assert "\rfitting on Dask: " in screen.getvalue() and " s" in screen.getvalue()
    assert screen.getvalue().endswith("\r\033[K")
    assert pipe.getvalue() == ""


def test_spaces_around_header_names_are_dropped_as_without_dask(cluster, tmp_path, capsys):
    # --dask kept " rooms " as the feature's name, so `wonderland predict` could not find
    # the column in the very file the model was fitted on (read_csv strips the names)
    rng = np.random.default_rng(2)
    X = rng.normal(size=(40, 2))
    table = np.column_stack([X, X @ [1.0, -2.0] + 3.0])
    data = tmp_path / "houses.csv"
    data.write_text(" rooms , age ,price\n"
                    + "\n".join(",".join(repr(float(v)) for v in row) for row in table))
    save = tmp_path / "model.json"
    status, out, err = _run(capsys, str(data), "--target", "price", "--model", "linear",
                            "--test-size", "0", "--save", str(save), "--dask",
                            "--scheduler", cluster.scheduler_address)
    assert status == 0, err
    assert _coefficients(out, ["rooms", "age"]) == pytest.approx([1.0, -2.0])
    assert main(["predict", str(save), str(data)]) == 0
    predicted = capsys.readouterr().out.split()
    assert [float(v) for v in predicted[1:]] == pytest.approx(table[:, 2])


def test_a_header_naming_a_column_twice_once_spaces_go_is_refused(cluster, tmp_path,
                                                                  capsys):
    data = tmp_path / "twice.csv"
    data.write_text("a, a,y\n1,2,3\n4,5,6\n")
    status, out, err = _run(capsys, str(data), "--target", "y", "--model", "linear",
                            "--save", str(tmp_path / "model.json"), "--dask",
                            "--scheduler", cluster.scheduler_address)
    assert status == 2
    assert err.strip() == ("wonderland fit: error: the header of "
                           f"{str(data)!r} names column 'a' twice (columns 0 and 1)")


def test_fit_piped_into_head_still_writes_the_model(cluster, houses, tmp_path, monkeypatch,
                                                    stdout_closed_after_first_line):
    # the report stopped at its second line, before the model was saved: no model file
    pattern, X, y = houses
    save = tmp_path / "model.json"
    monkeypatch.setattr("sys.stdout", stdout_closed_after_first_line)
    status = main(["fit", pattern, "--target", "price", "--model", "ridge", "--test-size",
                   "0", "--save", str(save), "--dask", "--scheduler",
                   cluster.scheduler_address])
    assert status == 141
    import wonderland.linear as wll

    assert wll.load(save).coef_ == pytest.approx(Ridge(alpha=1.0).fit(X, y).coef_, rel=1e-5)


def test_class_labels_too_large_for_an_integer_are_not_wrapped(cluster, tmp_path, capsys):
    # the whole number 1e20 was cast to int64 and wrapped to -2**63: a model of the
    # classes -9223372036854775808 and 0, fitted and saved without a word
    data = tmp_path / "big.csv"
    data.write_text("a,b,y\n1,2,0\n4,5,1e20\n3,3,0\n5,1,1e20\n6,0,1e20\n0,1,0\n")
    save = tmp_path / "model.json"
    status, out, err = _run(capsys, str(data), "--target", "y", "--model", "logistic",
                            "--alpha", "0.1", "--test-size", "0", "--save", str(save),
                            "--dask", "--scheduler", cluster.scheduler_address)
    assert status == 2
    assert err.startswith("wonderland fit: error: ") and err.count("\n") == 1
    assert not save.exists()


@pytest.mark.parametrize("labels, model", [
    ([0, 1, 2], "hinge"),  # three classes for a two-class model
    ([0, 1, 0.5], "logistic"),  # not a label
    ([0, 1, 0.5], "hinge"),
    ([0, 0, 0], "logistic"),  # one class
    ([0, 1, 1e20], "logistic"),  # a whole number no float64 keeps apart from its neighbours
])
def test_a_target_that_is_not_labels_gets_the_message_of_the_fit_in_memory(
        cluster, tmp_path, capsys, labels, model):
    # --dask left these to the estimator: scikit-learn's "Unknown label type: continuous",
    # "Only binary classification is supported", naming neither the column nor the value
    rng = np.random.default_rng(5)
    X = rng.normal(size=(60, 2))
    y = np.resize(np.asarray(labels, dtype=np.float64), 60)
    pattern = _write_parts(tmp_path / "parts", ["a", "b", "label"], np.column_stack([X, y]))
    messages = []
    for extra in ([], ["--dask", "--scheduler", cluster.scheduler_address]):
        data = pattern.replace("*", "0") if not extra else pattern
        status, out, err = _run(capsys, data, "--target", "label", "--model", model,
                                "--save", str(tmp_path / "model.json"), *extra)
        assert status == 2 and err.count("\n") == 1
        messages.append(err)
    assert "column 'label'" in messages[1]
    assert messages[1] == messages[0]
