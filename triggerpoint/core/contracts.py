"""Typed JSON contracts that answer like the house: every problem at once, as sentences naming the field.

A contract is a pydantic model (so ``/api/v1/openapi.json`` describes it and Ninja can take
it as a request body) whose fields carry small checks that raise the house's problem
sentences, e.g. ``injectates[0].volume_ml must be greater than 0, got -1``. What pydantic
alone would not do the house way is done once here, for every contract:

* an object's unknown fields are one problem listing them and the allowed ones, first;
* every field is checked even when another failed, and the object's cross-field checks
  (``problems``) still run on the fields that parsed, so one round trip shows everything;
* a field absent from the body takes its default; a required one is checked as ``None``
  (its check says what is missing); a field sent as ``null`` is checked as sent.

A contract may say otherwise per class: ``unknown_fields`` (its sentence, or None to ignore
them), ``null_is_absent`` (optional fields whose ``null`` means "not sent"), ``missing`` (one
sentence per absent required field, listed first) and ``shares`` (parsed fields the nested
objects' checks see in the context). ``core.contract_body`` takes a contract as a Ninja body.

`parse` turns the problems into a `RuleInputError` (422 in the API). Pure: pydantic only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from triggerpoint.core.rules import RuleInputError

PROBLEM = "problem"
WHERE = "{where}"


def problem(message: str) -> PydanticCustomError:
    """A problem sentence; ``{where}`` at its start stands for the field's place (``sites[0].side``)."""
    return PydanticCustomError(PROBLEM, message)


def checked(check: Callable[[Any], Any], json_schema: dict[str, Any], kind: Any = Any) -> Any:
    """A field type: `check` turns the raw JSON value into the parsed one or raises `problem`."""
    return Annotated[kind, BeforeValidator(check), WithJsonSchema(json_schema)]


class Contract(BaseModel):
    """One JSON object of a contract. Subclasses declare fields with `checked` types and may add `problems`."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True, json_schema_extra={"additionalProperties": False})
    not_an_object: ClassVar[str] = "{where} must be an object"
    # The problem an object's unknown fields make ({unknown}: theirs, {allowed}: sorted, {fields}: as declared);
    # None: unknown fields are ignored.
    unknown_fields: ClassVar[str | None] = "{where}: unknown fields {unknown}; allowed: {allowed}"
    # The optional fields (True: all) that, sent as ``null``, are taken as absent (their default), not checked as sent.
    null_is_absent: ClassVar[bool | tuple[str, ...]] = False
    # When set, the problem each absent required field makes ({name}), listed first, instead of checking it as None.
    missing: ClassVar[str | None] = None
    # Fields whose parsed values the nested objects' checks see in the context (e.g. a date they must precede).
    shares: ClassVar[tuple[str, ...]] = ()
    # The field after whose problems the cross-field ones are listed (None: after all fields).
    problems_after: ClassVar[str | None] = None

    def problems(self, raw: Mapping[str, Any], context: Mapping[str, Any]) -> list[str | tuple[str, str]]:
        """Cross-field problems, given the parsed fields (None where a field failed) and the raw object.

        A ``(field, sentence)`` pair is listed after that field's own problems.
        """
        return []

    @classmethod
    @cache
    def _adapters(cls) -> dict[str, TypeAdapter]:
        return {
            name: TypeAdapter(Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation)
            for name, field in cls.model_fields.items()
        }

    @model_validator(mode="wrap")
    @classmethod
    def _every_problem(cls, data: Any, handler: Any, info: Any) -> Any:
        if isinstance(data, cls):
            return data
        if not isinstance(data, Mapping):
            raise problem(cls.not_an_object)
        context = info.context or {}
        errors: list[dict[str, Any]] = []
        unknown = sorted(set(data) - set(cls.model_fields))
        if unknown and cls.unknown_fields is not None:
            message = cls.unknown_fields.format(where=WHERE, unknown=unknown, allowed=sorted(cls.model_fields),
                                                fields=list(cls.model_fields))
            errors.append(_line((), message, data))
        if cls.missing is not None:
            errors.extend(_line((), cls.missing.format(where=WHERE, name=name), data)
                          for name, field in cls.model_fields.items() if field.is_required() and name not in data)
        values: dict[str, Any] = {}
        ends: dict[str | None, int] = {}  # where each field's problems end
        for name, adapter in cls._adapters().items():
            field = cls.model_fields[name]
            nulls = cls.null_is_absent
            absent = name not in data or (data[name] is None and (nulls is True or name in (nulls or ())))
            if absent and not field.is_required():
                values[name] = field.get_default(call_default_factory=True)
            elif name not in data and cls.missing is not None:
                values[name] = None
            else:
                try:
                    values[name] = adapter.validate_python(data.get(name), context=context)
                except ValidationError as error:
                    values[name] = None
                    errors.extend(_line((name, *e["loc"]), e["msg"], e["input"], e["type"]) for e in error.errors())
            if name in cls.shares:
                context = {**context, name: values[name]}
            ends[name] = len(errors)
        parsed = cls.model_construct(set(data) & set(cls.model_fields), **values)
        ends[None] = ends.get(cls.problems_after, len(errors))
        cross = [item if isinstance(item, tuple) else (None, item) for item in parsed.problems(data, context)]
        placed = sorted((ends[after], order, message) for order, (after, message) in enumerate(cross))
        for at, _order, message in reversed(placed):  # from the end, so earlier places stay put
            errors.insert(at, _line((), message, data))
        if errors:
            raise ValidationError.from_exception_data(cls.__name__, errors)
        return parsed


def _line(loc: tuple, message: str, value: Any, kind: str = PROBLEM) -> dict[str, Any]:
    if kind != PROBLEM:  # a check that is not ours (pydantic's own): keep its message, name the field
        message = f"{WHERE}: {message}"
    return {"type": PydanticCustomError(PROBLEM, message), "loc": loc, "input": value}


def where(loc: tuple, root: str = "") -> str:
    text = root
    for part in loc:
        text = f"{text}[{part}]" if isinstance(part, int) else f"{text}.{part}" if text else str(part)
    return text


def problems_of(error: ValidationError, root: str = "", skip: int = 0) -> list[str]:
    """The house sentences of a contract's `ValidationError` (`skip` leading loc parts, e.g. Ninja's body name)."""
    sentences = []
    for line in error.errors():
        message, place = line["msg"], where(line["loc"][skip:])
        if not message.startswith(WHERE):
            sentences.append(message)
        elif place or root:
            sentences.append((place or root) + message[len(WHERE):])
        else:
            sentences.append(message[len(WHERE):].lstrip(": "))
    return sentences


def parse(contract: type[Contract], payload: Any, root: str = "", **context: Any) -> Contract:
    """Validate `payload` against `contract`, raising `RuleInputError` with every problem."""
    try:
        return contract.model_validate(payload, context=context)
    except ValidationError as error:
        raise RuleInputError(problems_of(error, root)) from None


def catalogue(context: Mapping[str, Any], name: str, load: Callable[[], Any]) -> Any:
    """A catalogue passed in the validation context (tests, a clinic's own), else the shipped one."""
    return context.get(name) or load()
