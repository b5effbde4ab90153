"""A demanding new user's hunt: functional transforms on unusual inputs (and compiled),
optimizers against PyTorch, and the CLI's bad-input contract (API.md §2, §3, §8, §8b, §9).

Tests marked ``xfail(strict=True)`` demonstrate bugs still open; each fails for the
reason given and will pass once the bug is fixed.
"""

from __future__ import annotations

import functools
import pickle
import warnings

import numpy as np
import pytest

import wonderland as wl
from wonderland.cli.main import main

# ----------------------------------------------------------------------- helpers


def _leaves(value):
    if isinstance(value, (tuple, list)):
        return [leaf for v in value for leaf in _leaves(v)]
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    return [value]


def _assert_same_tree(got, want):
    assert type(got) is type(want)
    got_l, want_l = _leaves(got), _leaves(want)
    assert len(got_l) == len(want_l)
    for g, w in zip(got_l, want_l):
        assert type(g) is type(w)
        if isinstance(w, wl.Tensor):
            assert g.dtype == w.dtype and g.shape == w.shape
            np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-12, atol=0)
        else:
            assert g == w


class _Scaled:
    def __init__(self):
        self.c = wl.tensor(3.0)

    def f(self, x):
        return self.c * (x ** 2).sum()


_X32 = np.array([1.0, 2.0, 3.0], dtype=np.float32)
_SQ = lambda x: (x ** 2).sum()  # noqa: E731

# (transformed function, args, kwargs): inputs a new user tries first
_UNUSUAL = {
    "grad-float32": (wl.grad(_SQ), (_X32,), {}),
    "value_and_grad-float32": (wl.value_and_grad(_SQ), (_X32,), {}),
    "hessian-float32": (wl.hessian(_SQ), (_X32,), {}),
    "jacfwd-float32-0d": (wl.jacfwd(lambda x: x ** 3), (np.float32(2.0),), {}),
    "jvp-float32": (lambda x, t: wl.jvp(_SQ, (x,), (t,)), (_X32, np.ones(3, np.float32)), {}),
    "vjp-float32": (lambda x: wl.vjp(lambda v: v * 2, x)[1](np.ones(3, np.float32)), (_X32,), {}),
    "grad-python-int": (wl.grad(lambda x: x ** 3), (2,), {}),
    "jacrev-size-0": (wl.jacrev(lambda x: x * 2), (np.zeros(0),), {}),
    "jacfwd-empty-output": (wl.jacfwd(lambda x: x[:0]), (np.ones(3),), {}),
    "grad-(1,)-output": (wl.grad(lambda x: _SQ(x).reshape(1)), (np.ones(3),), {}),
    "hessian-argnums-tuple": (wl.hessian(lambda x, y: (x * y ** 2).sum(), argnums=(0, 1)),
                              (1.0, 2.0), {}),
    "grad-keyword": (wl.grad(lambda x, scale=2.0: (x * scale).sum()), (np.ones(2),),
                     {"scale": 3.0}),
    "grad-partial": (wl.grad(functools.partial(lambda a, x: a * x ** 2, 5.0)), (2.0,), {}),
    "grad-bound-method": (wl.grad(_Scaled().f), (np.ones(2),), {}),
    "grad-has_aux-dict": (wl.grad(lambda x: (_SQ(x), {"x": x, "tag": "t"}), has_aux=True),
                          (np.ones(2),), {}),
    "jacrev-tuple-output": (wl.jacrev(lambda x: (x * 2, x.sum())), (np.ones(2),), {}),
    "perturbation": (wl.grad(lambda x: x * wl.grad(lambda y: x * y)(1.0)), (2.0,), {}),
}


@pytest.mark.parametrize("name", list(_UNUSUAL))
def test_compiled_transforms_equal_eager_on_unusual_inputs(name):
    """dtype (float32 kept), shape (0-d, size 0, (1,)), containers and values: compiled as
    eager, on the call that traces and on the one that reuses the program."""
    fn, args, kwargs = _UNUSUAL[name]
    eager = fn(*args, **kwargs)
    compiled = wl.compile(fn)
    _assert_same_tree(compiled(*args, **kwargs), eager)
    _assert_same_tree(compiled(*args, **kwargs), eager)
    for leaf in _leaves(eager):
        if isinstance(leaf, wl.Tensor) and "float32" in name:
            assert leaf.dtype == np.float32


# the inner transform returns (value, aux); the outer differentiates g + aux**2 through both.
# f(x, y) = (x y)^3, aux = x y, at y = 1.5: g = 6.75 x^3 (inner grad), 9 x^3 (inner hessian)
_INNER = {
    "grad": lambda f: wl.grad(f, has_aux=True)(1.5),
    "jacrev": lambda f: wl.jacrev(f, has_aux=True)(1.5),
    "jacfwd": lambda f: wl.jacfwd(f, has_aux=True)(1.5),
    "value_and_grad": lambda f: (lambda r: (r[1], r[0][1]))(
        wl.value_and_grad(f, has_aux=True)(1.5)),
    "jvp": lambda f: wl.jvp(f, (1.5,), (1.0,), has_aux=True)[1:],
    "vjp": lambda f: (lambda o, pb, aux: (pb(1.0)[0], aux))(*wl.vjp(f, 1.5, has_aux=True)),
    "hessian": lambda f: wl.hessian(f, has_aux=True)(1.5),
}
_OUTER = {"grad": wl.grad, "jacfwd": wl.jacfwd, "jacrev": wl.jacrev}


@pytest.mark.parametrize("outer", list(_OUTER))
@pytest.mark.parametrize("inner", list(_INNER))
def test_outer_transform_differentiates_through_inner_aux(inner, outer):
    def h(x):
        g, aux = _INNER[inner](lambda y: ((x * y) ** 3, x * y))
        return g + aux ** 2

    x = 0.7
    coef = 27.0 if inner == "hessian" else 20.25  # d/dx of 9x^3 or 6.75x^3
    expected = coef * x * x + 4.5 * x  # + d/dx (1.5 x)^2
    assert _OUTER[outer](h)(x).item() == pytest.approx(expected, rel=1e-13)


# ----------------------------------------------------------------------- transforms: bugs


@pytest.mark.xfail(strict=True, reason="BUG: wl.compile of a transform freezes closed-over "
                   "tensors in derivative terms linear in x: in-place updates not seen")
@pytest.mark.parametrize("make", [
    lambda W, w: wl.grad(lambda x: (w * x).sum()),
    lambda W, w: wl.jacrev(lambda x: W @ x),
    lambda W, w: wl.hessian(lambda x: x @ W @ x),
], ids=["grad", "jacrev", "hessian"])
def test_compiled_derivative_reads_a_closed_over_tensor_live(make):
    """README: a tensor f closes over (a model's parameter) 'is read by reference at every
    call, so an optimizer's in-place update is seen'. Every expression here involves x, yet
    the derivative (w, W or W + Wᵀ) was folded into a constant at trace time: after a step
    the compiled derivative silently keeps the old parameters (the forward pass does not)."""
    W = wl.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    w = wl.tensor([1.0, 2.0], requires_grad=True)
    fn = make(W, w)
    compiled = wl.compile(fn)
    x = np.array([0.3, -0.2])
    compiled(x)
    W.grad, w.grad = wl.ones(2, 2), wl.ones(2)
    wl.optim.GD([W, w], lr=0.5).step()  # the parameters move in place
    np.testing.assert_allclose(compiled(x).numpy(), fn(x).detach().numpy(), rtol=1e-12)


class _Model:
    c = 3.0

    def loss(self, x):
        return self.c * (x ** 2).sum()

    dloss = wl.grad(loss, argnums=1)
    hess = wl.hessian(loss, argnums=1)

    @functools.partial(wl.grad, argnums=1)
    def dcube(self, x):
        return self.c * (x ** 3).sum()


# Fixed; before the fix: BUG: a transformed function used as a method does not bind self
# (Transformed has no __get__), unlike JAX's and wl.compile's
@pytest.mark.parametrize("attr", ["dloss", "hess", "dcube"])
def test_transformed_function_as_a_method_binds_self(attr):
    """JAX's transforms return plain functions, so ``dloss = jax.grad(loss, argnums=1)`` in a
    class body is a method; wl.compile's result binds self too. wl's says 'argnums 1 is out
    of range for a function called with 1 positional argument(s)'."""
    x = np.array([1.0, 2.0])
    got = getattr(_Model(), attr)(x).numpy()
    want = {"dloss": 6.0 * x, "hess": 6.0 * np.eye(2), "dcube": 9.0 * x ** 2}[attr]
    np.testing.assert_allclose(got, want)


# Fixed; before the fix: BUG: has_aux='False' (a non-bool) is taken as true by the transforms;
# linearize and the optimizers refuse non-bool flags
@pytest.mark.parametrize("transform", ["grad", "jacrev", "jacfwd", "vjp", "jvp"])
def test_has_aux_that_is_not_a_bool_is_refused(transform):
    """jacrev(f, has_aux="False") of f returning two outputs silently returns the second
    output's values as 'aux' instead of its Jacobian (same 2-tuple shape, other content)."""
    x = np.ones(2)
    f = (lambda x: (x.sum(), x * 3)) if transform == "grad" else (lambda x: (x * 2, x * 3))
    with pytest.raises(TypeError, match="has_aux"):
        if transform == "vjp":
            wl.vjp(f, x, has_aux="False")
        elif transform == "jvp":
            wl.jvp(f, (x,), (x,), has_aux="False")
        else:
            getattr(wl, transform)(f, has_aux="False")(x)


# Fixed; before the fix: BUG: complex inputs reach the transforms: grad gives the conjugate of
# JAX's answer, jacfwd drops the imaginary part silently
@pytest.mark.parametrize("transform", ["grad", "jacrev", "jacfwd"])
def test_complex_input_to_a_transform_is_refused(transform):
    """wl.tensor(complex, requires_grad=True) is a TypeError ('wonderland differentiates real
    functions'). wl.grad(|z|)(3+4j) gives 0.6+0.8j (JAX: 0.6-0.8j); wl.jacfwd gives [[0.6]]
    with only NumPy's ComplexWarning (JAX raises TypeError)."""
    f = (lambda z: wl.abs(z).sum()) if transform == "grad" else (lambda z: wl.abs(z))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(TypeError, match="complex"):
            getattr(wl, transform)(f)(np.array([3.0 + 4.0j]))


# Fixed; before the fix: BUG: a ragged list given to a transform is NumPy's raw ValueError,
# naming neither the transform nor the argument
@pytest.mark.parametrize("call", [
    lambda bad: wl.grad(lambda x, y: (x * y).sum(), argnums=(0, 1))(1.0, bad),
    lambda bad: wl.vjp(lambda x, y: x * y, 1.0, bad),
], ids=["grad", "vjp"])
def test_ragged_list_input_names_the_transform_and_argument(call):
    """wl.tensor and minimize name a ragged list clearly; the transforms do not."""
    with pytest.raises((TypeError, ValueError)) as info:
        call([[1.0], [1.0, 2.0]])
    message = str(info.value)
    assert ("grad" in message or "vjp" in message) and "argument 1" in message, message


# Fixed; before the fix: BUG: an unhashable static argument (an array) is said to be
# 'neither an array, a number nor a container'
def test_compile_static_array_argument_error_says_static():
    compiled = wl.compile(lambda x, y: (x * y).sum(), static_argnums=0)
    with pytest.raises(TypeError) as info:
        compiled(np.ones(2), np.ones(2))
    message = str(info.value)
    assert "static" in message and "neither an array" not in message, message


# ----------------------------------------------------------------------- optimization


def test_momentum_state_dict_round_trip_continues_like_torch_sgd():
    """Heavy ball = torch SGD(momentum) for a constant lr (to 1e-12), on a 0-d parameter,
    with the state pickled mid-run into a fresh optimizer whose lr differs."""
    torch = pytest.importorskip("torch")
    x = wl.tensor(1.5, requires_grad=True)
    opt = wl.optim.Momentum([x], lr=0.01, momentum=0.8)
    xt = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    ref = torch.optim.SGD([xt], lr=0.01, momentum=0.8)

    def run(p, o, n):
        for _ in range(n):
            o.zero_grad()
            (p ** 4 - 3 * p ** 2).backward()
            o.step()

    run(x, opt, 5)
    assert x.grad is not None
    opt.zero_grad()
    assert x.grad is None  # set to None, PyTorch's default
    y = wl.tensor(x.item(), requires_grad=True)
    resumed = wl.optim.Momentum([y], lr=0.5)
    resumed.load_state_dict(pickle.loads(pickle.dumps(opt.state_dict())))
    assert resumed.lr == 0.01 and resumed.t == 5
    run(y, resumed, 7)
    run(xt, ref, 12)
    assert y.item() == pytest.approx(xt.item(), abs=1e-12)


# Fixed; before the fix: BUG: batched minimize of a zero-size x0 ((0, d) or (n, 0)) dies in
# _norm with NumPy's AxisError
@pytest.mark.parametrize("shape", [(0, 2), (2, 0)])
def test_batched_minimize_of_a_zero_size_x0(shape):
    """Non-batched minimize of x0=[] answers tol_grad at x0; batched should answer per row
    (or refuse naming minimize), not 'axis 1 is out of bounds for array of dimension 1'."""
    try:
        res = wl.optim.minimize(lambda X: (X ** 2).sum(axis=1), np.zeros(shape), batched=True)
    except ValueError as exc:
        assert str(exc).startswith("minimize"), exc
        return
    assert res.x.shape == shape
    assert list(res.reason) == ["tol_grad"] * shape[0]
    assert list(res.n_iter) == [0] * shape[0]


# ----------------------------------------------------------------------- command line


@pytest.mark.parametrize(("argv", "flag"), [
    (["practice", "--momentum", "nan"], "--momentum"),
    (["practice", "--starts", "1e30"], "--starts"),
    (["fit", "data.csv", "--target", "y", "--model", "linear", "--test-size", "nan"],
     "--test-size"),
    (["fit", "data.csv", "--target", "y", "--model", "ridge", "--alpha", "inf"], "--alpha"),
    (["bench", "--quick", "--only", "W1", "--repeats", "nan"], "--repeats"),
    (["bench", "--quick", "--only", "W1", "--out", "chart.xyz"], "--out"),
])
def test_cli_bad_values_exit_2_with_one_line(argv, flag, tmp_path, monkeypatch, capsys):
    """NaN, infinite, huge and unsupported values: status 2, one line naming the option and
    the value, before anything runs or is written (in-process: no subprocess start-up)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data.csv").write_text("a,b,y\n1,2,3\n2,3,5\n3,1,4\n4,4,8\n")
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    line = lines[0]
    assert line.startswith(f"wonderland {argv[0]}: error: ") and "Traceback" not in line
    assert flag in line and argv[argv.index(flag) + 1] in line, line
    assert captured.out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv"]
