"""A typed contract (`core.contracts.Contract`) taken as a Ninja request body.

``payload: DoseCheckIn = ContractBody(..., example=...)`` publishes the contract in
``/api/v1/openapi.json`` by ``$ref``, and a body that breaks it answers like the house: a 422
`RuleInputError` listing every problem as a sentence (not Ninja's ``{"loc", "msg"}`` objects).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import pydantic
from ninja.params.models import Body as BodyParam
from ninja.params.models import BodyModel

from triggerpoint.core.contracts import problems_of
from triggerpoint.core.rules import RuleInputError


class _ContractBodyModel(BodyModel):
    """Ninja's body model, but a contract's problems answer as `RuleInputError` (422, every problem a sentence).

    `before_read(request)`, when set (`contract_body`), runs before the body is read at all."""

    before_read: ClassVar[Callable[[Any], None] | None] = None

    @classmethod
    def resolve(cls, request, api, path_params):
        if cls.before_read is not None:
            cls.before_read(request)
        data = cls.get_request_data(request, api, path_params) or {cls.__read_from_single_attr__: None}
        try:
            return cls.model_validate(data, context={"request": request})
        except pydantic.ValidationError as error:
            raise RuleInputError(problems_of(error, skip=1)) from None


class _ObjectContractBodyModel(_ContractBodyModel):
    """A JSON value that is not an object is refused before the contract reads it, as Ninja refuses it for a
    ``dict`` body (``missing``, ``dict_type``): the answer these calculators gave before their bodies were typed.
    Then `before` (e.g. the permission check) runs, so the contract's problems never answer a caller refused anyway."""

    before: ClassVar[Callable[[Any], None] | None] = None

    @classmethod
    def resolve(cls, request, api, path_params):
        name = cls.__read_from_single_attr__
        data = cls.get_request_data(request, api, path_params) or {}
        if not isinstance(data.get(name), dict):
            kind = "missing" if name not in data else "dict_type"
            raise pydantic.ValidationError.from_exception_data(
                cls.__name__, [{"type": kind, "loc": (name,), "input": data.get(name)}]
            )
        if cls.before is not None:
            cls.before(request)
        return super().resolve(request, api, path_params)


class ContractBody(BodyParam):
    _model = _ContractBodyModel

    @classmethod
    def _param_source(cls) -> str:
        return "body"


class ObjectContractBody(ContractBody):
    """A contract body whose non-object JSON values get Ninja's ``dict`` answer (see `_ObjectContractBodyModel`)."""

    _model = _ObjectContractBodyModel


def object_contract_body(*args: Any, before: Callable[[Any], None] | None = None, **kwargs: Any) -> ObjectContractBody:
    """An `ObjectContractBody` whose `before(request)` runs after the object check and before the contract."""
    model = type("_CheckedContractBodyModel", (_ObjectContractBodyModel,), {"before": staticmethod(before)})
    return type("_CheckedContractBody", (ObjectContractBody,), {"_model": model})(*args, **kwargs)


def contract_body(*args: Any, before: Callable[[Any], None] | None = None, **kwargs: Any) -> ContractBody:
    """A `ContractBody` whose `before(request)` runs before the body is read, so that what the caller could never
    be answered otherwise (refused: 403; a body too large: 413; not JSON: 400, in the operation's own words) comes
    before the contract's problems (422). A JSON value that is not an object is left to the contract's sentence."""
    model = type("_GuardedContractBodyModel", (_ContractBodyModel,), {"before_read": staticmethod(before)})
    return type("_GuardedContractBody", (ContractBody,), {"_model": model})(*args, **kwargs)
