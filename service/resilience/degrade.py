"""How a degradation is described: one ``Fallback`` per step taken, from a closed set of names.

Every step is named from a closed set (``hard``, ``easy``, ``faq``, ``handoff``, ``retrieval``,
``tool``, ``router``), so ``from``/``to`` stay bounded metric labels. The first failure that
forced a fallback is the request's ``error_code``/``error_layer``: the log line then tells what
broke, and ``outcome`` tells whether the customer still got an answer. Fallbacks are values: the
accounting counts them once, in ``beacon_fallbacks_total``, when the request ends.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.errors import ServiceError


@dataclass(frozen=True, slots=True)
class Fallback:
    source: str
    target: str
    code: str
    layer: str

    @classmethod
    def after(cls, cause: ServiceError, *, source: str, target: str) -> Fallback:
        return cls(source=source, target=target, code=cause.code, layer=cause.layer)

    @property
    def label(self) -> str:
        return f"{self.source}->{self.target}"
