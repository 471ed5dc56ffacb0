"""A typed contract (`core.contracts.Contract`) taken as a Ninja request body.

``payload: DoseCheckIn = ContractBody(..., example=...)`` publishes the contract in
``/api/v1/openapi.json`` by ``$ref``, and a body that breaks it answers like the house: a 422
`RuleInputError` listing every problem as a sentence (not Ninja's ``{"loc", "msg"}`` objects).
"""

from __future__ import annotations

import pydantic
from ninja.params.models import Body as BodyParam
from ninja.params.models import BodyModel

from triggerpoint.core.contracts import problems_of
from triggerpoint.core.rules import RuleInputError


class _ContractBodyModel(BodyModel):
    """Ninja's body model, but a contract's problems answer as `RuleInputError` (422, every problem a sentence)."""

    @classmethod
    def resolve(cls, request, api, path_params):
        data = cls.get_request_data(request, api, path_params) or {cls.__read_from_single_attr__: None}
        try:
            return cls.model_validate(data, context={"request": request})
        except pydantic.ValidationError as error:
            raise RuleInputError(problems_of(error, skip=1)) from None


class _ObjectContractBodyModel(_ContractBodyModel):
    """A JSON value that is not an object is refused before the contract reads it, as Ninja refuses it for a
    ``dict`` body (``dict_type``): the answer these calculators gave before their bodies were typed."""

    @classmethod
    def resolve(cls, request, api, path_params):
        data = cls.get_request_data(request, api, path_params) or {}
        name = cls.__read_from_single_attr__
        if not isinstance(data.get(name), dict):
            raise pydantic.ValidationError.from_exception_data(
                cls.__name__, [{"type": "dict_type", "loc": (name,), "input": data.get(name)}]
            )
        return super().resolve(request, api, path_params)


class ContractBody(BodyParam):
    _model = _ContractBodyModel

    @classmethod
    def _param_source(cls) -> str:
        return "body"


class ObjectContractBody(ContractBody):
    """A contract body whose non-object JSON values get Ninja's ``dict`` answer (see `_ObjectContractBodyModel`)."""

    _model = _ObjectContractBodyModel
