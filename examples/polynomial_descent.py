"""The text's polynomial example: minimize f(x) = 2x⁴ + x³ − 3x² from x0 = 2 by gradient
descent, once with each stopping rule of the text:

- |f'(x)| < ε   (a stationary point: reason "tol_grad")
- |x_t − x_{t+1}| < ε   (the steps became tiny: reason "tol_x")

Both stop at the local minimum x* = (−3 + √201)/16 ≈ 0.6986; the global minimum, near
x = −1.07, lies beyond the local maximum at 0 and is not reached from x0 = 2. The step
rule stops sooner but less precisely: a step is lr·|f'(x)|, so a step below ε = 1e-6
only means |f'(x)| < 1e-4 at lr = 0.01. Momentum is slower here than plain descent: in
one dimension there is no ravine for it to cross, and the heavy ball overshoots (from
x0 = 2 it rolls past 0 and even past the global minimum, as far as x ≈ −1.94, then
back) and swings around x* before it settles.

Run:  python examples/polynomial_descent.py
"""

import wonderland as wl


def f(x):
    return 2 * x**4 + x**3 - 3 * x**2


def main() -> None:
    print("f(x) = 2x^4 + x^3 - 3x^2, x0 = 2, gradient descent with lr = 0.01")
    exact = (-3 + 201 ** 0.5) / 16  # f'(x) = 8x^3 + 3x^2 - 6x = 0 at x > 0
    for rule, options in (("|f'(x)| < 1e-6", {"tol_grad": 1e-6}),
                          ("|x_t - x_t+1| < 1e-6", {"tol_grad": 0.0, "tol_x": 1e-6})):
        res = wl.optim.minimize(f, 2.0, method="gd", lr=0.01, max_iter=10_000, **options)
        print(f"stopping rule {rule:22s}: x = {res.x.item():.6f}, f(x) = {res.fun:.6f}, "
              f"|f'(x)| = {res.grad_norm:.2e}, {res.n_iter} iterations, reason {res.reason!r}")
    print(f"the exact local minimum: x* = (-3 + sqrt(201)) / 16 = {exact:.6f} "
          f"(the global one is near x = -1.07)")
    res = wl.optim.minimize(f, 2.0, method="momentum", lr=0.01, momentum=0.9, max_iter=10_000)
    print(f"with momentum 0.9: x = {res.x.item():.6f} after {res.n_iter} iterations "
          f"({res.reason}): slower, it overshoots as far as x = {res.trace.x.min():.2f} "
          f"and swings around x* before it settles")


if __name__ == "__main__":
    main()
