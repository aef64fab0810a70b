"""Error messages that name the public function or layer the user called, without passing its name around.

A public entry point names itself once, as a decorator or a `with` block:

```python
@errors.caller("cutmix_fn")
def cutmix_fn(images, ...): ...

with errors.caller("CutMix"):
    ...
```

and every check below it writes `raise ValueError(errors.named("Expected ..."))`, which reads
"cutmix_fn: Expected ...". The name lives in a context variable: it holds while the entry point runs,
also while `tf.function` or `tf.data` trace it (messages of run-time assertions are built at trace time),
and each thread (each `tf.distribute` replica) has its own.
"""

import contextlib
import contextvars

_CALLER = contextvars.ContextVar("keras_cutmix_mixing_caller", default=None)


@contextlib.contextmanager
def caller(name):
    """Names the public entry point for the errors raised inside it (a decorator or a context manager).

    Args:
        name: The name users see first in a message, e.g. "cutmix_fn", "CutMix".
    """
    token = _CALLER.set(name)
    try:
        yield
    finally:
        _CALLER.reset(token)


def named(message, name=None):
    """`message` prefixed with the entry point's name: "cutmix_fn: Expected ...".

    Args:
        message: The message, starting with what was expected.
        name: Overrides the entry point's name (for modules outside the mixing core that call its checks).
            Defaults to None: the name set by `caller`, or no prefix outside any entry point.
    """
    name = name or _CALLER.get()
    return f"{name}: {message}" if name else message
