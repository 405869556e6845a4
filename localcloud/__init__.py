"""The local cloud: runs what `cdk synth` produced -- moto for the data plane, in-process Lambdas,
an HTTP front door, event delivery, pollers, a scheduler and one warp clock. See docs/local-cloud.md."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from localcloud.cloud import LocalCloud, NotIdleError

__all__ = ["LocalCloud", "NotIdleError"]


def __getattr__(name: str) -> Any:
    # `import localcloud` stays cheap (the unit tests import its pure modules).
    if name in __all__:
        from localcloud import cloud

        return getattr(cloud, name)
    raise AttributeError(name)
