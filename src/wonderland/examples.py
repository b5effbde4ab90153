"""The text's tensor and gradient examples, runnable: ``python -m wonderland``.

Each example is the course's PyTorch snippet with ``wl`` in place of ``torch``.
"""

from __future__ import annotations

from collections.abc import Callable

import wonderland as wl


def broadcasting() -> str:
    """A ``(4, 1)`` tensor plus a ``(4,)`` tensor broadcasts to ``(4, 4)``.

    Examples
    --------
    >>> broadcasting()
    '(4, 1) + (4,) -> (4, 4)'
    """
    a = wl.randn((4, 1))
    b = wl.randn((4,))
    return f"(4, 1) + (4,) -> {tuple((a + b).shape)}"


def reduction() -> str:
    """``sum`` along ``dim=0`` of a ``(3, 2)`` tensor.

    Examples
    --------
    >>> reduction()
    'sum(a, dim=0) = [9.0, 12.0]'
    """
    a = wl.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    return f"sum(a, dim=0) = {wl.sum(a, dim=0).tolist()}"


def batched_matmul() -> str:
    """A batch of 4 products ``(5, 2) @ (2, 3)``.

    Examples
    --------
    >>> batched_matmul()
    '(4, 5, 2) @ (4, 2, 3) -> (4, 5, 3)'
    """
    x = wl.randn((4, 5, 2))
    y = wl.randn((4, 2, 3))
    return f"(4, 5, 2) @ (4, 2, 3) -> {tuple((x @ y).shape)}"


def polynomial_descent(steps: int = 10, alpha: float = 0.001, x0: float = 2.0) -> list[str]:
    """Gradient descent on ``f(x) = 2x^4 + x^3 - 3x^2`` from ``x0``, as the text's loop:
    one line per step, ``x`` after the step, ``f`` and ``f'`` before it.

    Examples
    --------
    >>> polynomial_descent(steps=2)
    ["x = 1.936, f(x) = 28.000, f'(x) = 64.000", "x = 1.878, f(x) = 24.108, f'(x) = 57.679"]
    """
    x = wl.tensor(x0, requires_grad=True)
    lines = []
    for _ in range(steps):
        y = 2 * x**4 + x**3 - 3 * x**2
        y.backward()
        with wl.no_grad():
            x -= x.grad * alpha
        lines.append("x = {:.3f}, f(x) = {:.3f}, f'(x) = {:.3f}".format(x, y, x.grad))
        x.grad.zero_()
    return lines


def gradient_of_a_vector_function() -> str:
    """The gradient of ``||x||^2`` is ``2x``.

    Examples
    --------
    >>> gradient_of_a_vector_function()
    'grad of ||x||^2 at [1.0, -2.0, 3.0] = [2.0, -4.0, 6.0]'
    """
    x = wl.tensor([1.0, -2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    return f"grad of ||x||^2 at {x.tolist()} = {x.grad.tolist()}"


EXAMPLES: dict[str, Callable[[], object]] = {
    "broadcasting": broadcasting,
    "reduction": reduction,
    "batched matmul": batched_matmul,
    "gradient": gradient_of_a_vector_function,
    "polynomial descent": polynomial_descent,
}


def main() -> int:
    """Print the result of each example; returns the exit status (0).

    Examples
    --------
    >>> main()  # doctest: +ELLIPSIS
    == broadcasting
       (4, 1) + (4,) -> (4, 4)
    ...
    0
    """
    wl.manual_seed(0)
    for name, example in EXAMPLES.items():
        result = example()
        print(f"== {name}")
        for line in result if isinstance(result, list) else [result]:
            print(f"   {line}")
    return 0
