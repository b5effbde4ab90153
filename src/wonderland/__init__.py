"""wonderland: differentiable programming on NumPy (and any Array-API library).

Tensors with reverse-mode automatic differentiation, following the course
"Alice's Adventures in a Differentiable Wonderland".
"""

from . import (
    allocator,  # noqa: F401 - tunes malloc first thing: see allocator.py
    autograd,
    conversions,  # noqa: F401 - installs item(), tolist(), float(), len(), ... on Tensor
    data,
    idioms,  # noqa: F401 - installs PyTorch's and NumPy's spellings on Tensor
    interop,  # noqa: F401 - installs NumPy's protocols on Tensor
    linalg,
    losses,
    optim,
)
from .autodiff import (
    grad,
    hessian,
    jacfwd,
    jacobian,
    jacrev,
    jvp,
    value_and_grad,
    vjp,
)
from .compile import compile  # noqa: A004 - wl.compile; shadows the builtin here only
from .creation import (
    arange,
    as_tensor,
    bool_,
    eye,
    float32,
    float64,
    from_numpy,
    full,
    full_like,
    int32,
    int64,
    linspace,
    manual_seed,
    ones,
    ones_like,
    rand,
    rand_like,
    randn,
    randn_like,
    tensor,
    zeros,
    zeros_like,
)
from .gradcheck import check_grad, numerical_grad
from .idioms import (
    allclose,
    chunk,
    flip,
    floor_divide,
    inference_mode,
    isclose,
    movedim,
    remainder,
    roll,
    round,
    set_grad_enabled,
    split,
    tril,
    triu,
    unbind,
)
from .primitives.elementwise import (
    abs,
    astype,
    ceil,
    clip,
    clone,
    cos,
    exp,
    floor,
    isfinite,
    isnan,
    log,
    log1p,
    maximum,
    minimum,
    negative,
    relu,
    sigmoid,
    sign,
    sin,
    softplus,
    sqrt,
    tan,
    tanh,
    trunc,
    where,
)
from .primitives.linalg import dot, einsum, inner, matmul, outer
from .primitives.reductions import (
    argmax,
    argmin,
    log_softmax,
    logsumexp,
    max,
    mean,
    min,
    norm,
    prod,
    softmax,
    std,
    sum,
    var,
)
from .primitives.shape import (
    broadcast_to,
    cat,
    concatenate,
    flatten,
    permute,
    reshape,
    squeeze,
    stack,
    transpose,
    unsqueeze,
)
from .taylor import linearize
from .tensor import (
    Tensor,
    enable_grad,
    is_grad_enabled,
    no_grad,
)

clamp = clip

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    # wl.plot imports matplotlib and wl.linear scikit-learn (each about a quarter of a
    # second): only when first used
    if name in ("plot", "linear"):
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'wonderland' has no attribute {name!r}")


__all__ = [
    "Tensor", "tensor", "zeros", "ones", "full", "eye", "arange", "linspace", "zeros_like",
    "ones_like", "manual_seed", "randn", "rand", "float32", "float64", "int32", "int64",
    "bool_", "no_grad", "enable_grad", "is_grad_enabled", "set_grad_enabled",
    "sum", "mean", "var", "std", "max", "min", "prod", "argmax", "argmin", "matmul", "dot",
    "inner", "outer", "norm", "exp", "log", "log1p", "sqrt", "abs", "sign", "sin", "cos", "tan",
    "tanh", "sigmoid", "relu", "softplus", "maximum", "minimum", "negative", "where", "clip",
    "clamp", "floor", "ceil", "trunc", "round", "floor_divide", "remainder",
    "astype", "clone", "isfinite", "isnan", "reshape", "transpose", "permute", "squeeze",
    "unsqueeze", "flatten", "stack", "concatenate", "cat", "broadcast_to", "logsumexp",
    "softmax", "log_softmax", "einsum", "linalg", "optim", "plot",
    "grad", "value_and_grad", "vjp", "jvp", "jacrev", "jacfwd", "jacobian", "hessian",
    "linearize", "numerical_grad", "check_grad",
    "autograd", "inference_mode", "from_numpy", "as_tensor", "allclose", "isclose",
    "randn_like", "rand_like", "full_like", "losses", "data", "linear", "compile",
    "flip", "roll", "tril", "triu", "chunk", "split", "unbind", "movedim",
]
