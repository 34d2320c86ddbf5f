"""Compiling once for many requests: arguments, variables and the principal as bind parameters.

A statement is built for one document, operation and role, and serves every request that sends
them, whatever its variables and whoever the principal of that role: values enter the statement
only as bind parameters, computed per request (`Plan.arguments`). Where a value decides the
shape of the statement (`orderBy`, whether `after` or a filter is given, the type a global id
names), the compiler asks `Context.decide`, which records the decision as a guard: the plan
serves only requests whose values lead to the same decisions, and another variant is compiled
for the others (`compiled_view` keeps the variants of a document side by side).

Argument checks (page sizes, codes, cursors) run at compile time for the request that caused
the compilation, and again for every request the plan serves, before it runs: a value that
fails them is declined (`Decline`), and the resolvers word the error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import count
from typing import Any

from graphql import (
    FragmentDefinitionNode,
    GraphQLSchema,
    Undefined,
    ValueNode,
    VariableNode,
    value_from_ast,
    visit,
)
from graphql.language import Visitor
from sqlalchemy import BindParameter, ColumnElement, Integer, Select, String, bindparam
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.types import TypeEngine

from auth.principal import Principal, Role
from service.errors import DxlinkError
from service.settings import Settings


class NotCompilable(Exception):
    """This operation (or these arguments) go to the resolver path; ``category`` names the
    reason without the request's values (the fallbacks are counted by it)."""

    def __init__(self, reason: str, category: str | None = None) -> None:
        super().__init__(reason)
        self.category = category or reason
        # The decisions taken before the compiler declined (set by `compile_plan`): requests
        # that take the same would be declined too.
        self.guards: tuple[_Guard, ...] | None = None


@dataclass(frozen=True)
class Inputs:
    """What a request brings to a plan: its coerced variables and its principal."""

    variables: Mapping[str, Any]
    principal: Principal


class _HasVariables(Visitor):
    found = False

    def enter_variable(self, node: VariableNode, *_: Any) -> None:
        self.found = True


@dataclass(frozen=True)
class Arg:
    """An argument of a field: a constant of the document, or computed from the variables."""

    node: ValueNode | None  # None: not given (the default applies)
    type: Any
    default: Any
    constant: bool

    @classmethod
    def of(cls, node: ValueNode | None, type_: Any, default: Any) -> Arg:
        finder = _HasVariables()
        if node is not None:
            visit(node, finder)
        return cls(node, type_, default, constant=not finder.found)

    def value(self, variables: Mapping[str, Any]) -> Any:
        absent = self.node is None or (
            # A variable the request did not send: as if the argument were not given.
            isinstance(self.node, VariableNode) and self.node.name.value not in variables
        )
        if absent:
            return None if self.default is Undefined else self.default
        value = value_from_ast(self.node, self.type, variables)
        if value is Undefined:
            # Not a valid value after all (a null variable for a non-null argument): the
            # resolvers word that error.
            raise NotCompilable("argument value", "argument error")
        return value


class Decline(Exception):
    """At run time: this request's values fail a check; the resolvers answer it."""


@dataclass(frozen=True)
class _Param:
    name: str
    compute: Callable[[Inputs], Any]


@dataclass(frozen=True)
class _Guard:
    project: Callable[[Inputs], Any]
    expected: Any


_counter = count()


class SymbolicPrincipal:
    """A principal of one role whose ids are bind parameters: what `auth.policy` builds its
    conditions from, so that one statement serves every principal of the role."""

    def __init__(self, context: Context) -> None:
        self.role = context.role

        def attribute(name: str) -> BindParameter[Any]:
            return context.bind(lambda i: getattr(i.principal, name), Integer)

        self.municipality_id = attribute("municipality_id")
        self.expert_id = attribute("expert_id")
        self.region_id = attribute("region_id")
        self.producer_id = attribute("producer_id")


@dataclass
class Context:
    """Everything one compilation reads and records."""

    schema: GraphQLSchema
    fragments: dict[str, FragmentDefinitionNode]
    settings: Settings
    inputs: Inputs  # the request being compiled for: its values take the decisions
    params: dict[str, _Param] = field(default_factory=dict)
    guards: list[_Guard] = field(default_factory=list)
    # Conditions a request's values must meet in the database (a region that exists): when one
    # fails, the statement answers NULL and the request goes to the resolvers, whose error it is.
    requirements: list[ColumnElement[bool]] = field(default_factory=list)
    _principal: SymbolicPrincipal | None = None

    @property
    def role(self) -> Role:
        return self.inputs.principal.role

    @property
    def principal(self) -> SymbolicPrincipal:
        if self._principal is None:
            self._principal = SymbolicPrincipal(self)
        return self._principal

    def bind(
        self, compute: Callable[[Inputs], Any], type_: TypeEngine[Any] | type[TypeEngine[Any]]
    ) -> BindParameter[Any]:
        """A bind parameter whose value ``compute`` gives for each request (checked now)."""
        try:
            value = compute(self.inputs)
        except (DxlinkError, Decline) as exc:
            raise NotCompilable(str(exc), "argument error") from exc
        name = f"p{next(_counter)}"
        self.params[name] = _Param(name, compute)
        return bindparam(name, value, type_=type_)

    def argument(
        self,
        arg: Arg,
        type_: TypeEngine[Any] | type[TypeEngine[Any]] = String,
        transform: Callable[[Any], Any] = lambda value: value,
    ) -> BindParameter[Any]:
        """A bind parameter for an argument's value, through ``transform`` (which checks it)."""
        return self.bind(lambda inputs: transform(arg.value(inputs.variables)), type_)

    def require(self, condition: ColumnElement[bool]) -> None:
        self.requirements.append(condition)

    def decide(self, arg: Arg, projection: Callable[[Any], Any] = lambda value: value) -> Any:
        """``projection`` of the argument's value, which shapes the statement: recorded, so that
        the plan serves only requests for which it comes out the same."""
        try:
            value = projection(arg.value(self.inputs.variables))
        except (DxlinkError, Decline) as exc:
            raise NotCompilable(str(exc), "argument error") from exc
        if not arg.constant:
            self.guards.append(_Guard(lambda i: projection(arg.value(i.variables)), value))
        return value

    def decide_principal(self, projection: Callable[[Principal], Any]) -> Any:
        """The same for a property of the principal beyond its role (e.g. whether it has a
        municipality)."""
        value = projection(self.inputs.principal)
        self.guards.append(_Guard(lambda i: projection(i.principal), value))
        return value


def serves(guards: tuple[_Guard, ...], inputs: Inputs) -> bool:
    """Whether a request's values take the decisions recorded in ``guards``."""
    try:
        return all(guard.project(inputs) == guard.expected for guard in guards)
    except (DxlinkError, NotCompilable, Decline):
        return False


_DIALECT = asyncpg_dialect()


@dataclass(frozen=True)
class Plan:
    """A compiled statement for asyncpg (`$n` placeholders) and how to fill them per request."""

    sql: str
    _fill: tuple[tuple[Callable[[Inputs], Any], Callable[[Any], Any] | None], ...]
    _guards: tuple[_Guard, ...]
    # The tables its answer depends on, when it may be cached (service/result_cache.py).
    tables: frozenset[str] | None = None

    def serves(self, inputs: Inputs) -> bool:
        """Whether this request's values take the decisions the plan was built on."""
        return serves(self._guards, inputs)

    def arguments(self, inputs: Inputs) -> tuple[Any, ...]:
        """The values of the placeholders for this request; `Decline` when a check fails."""
        out = []
        for compute, process in self._fill:
            try:
                value = compute(inputs)
            except (DxlinkError, NotCompilable) as exc:
                raise Decline(str(exc)) from exc
            out.append(process(value) if process is not None else value)
        return tuple(out)

    def statement(self, variables: Mapping[str, Any], principal: Principal) -> tuple[str, tuple]:
        return self.sql, self.arguments(Inputs(variables, principal))


def render(statement: Select[Any], context: Context) -> Plan:
    """The statement as asyncpg runs it, with the recipe of its arguments."""
    compiled = statement.compile(dialect=_DIALECT)
    params = compiled.construct_params()
    if compiled.positiontup is None or params is None:
        raise NotCompilable("no positional parameters")
    fill = []
    for name in compiled.positiontup:
        bind = compiled.binds.get(name)
        if bind is None or bind.expanding or bind.literal_execute or name not in params:
            # IN lists and literal-rendered parameters: not produced by the compiler.
            raise NotCompilable(f"parameter {name}")
        processor = bind.type.dialect_impl(_DIALECT).bind_processor(_DIALECT)
        param = context.params.get(name)
        if param is not None:
            fill.append((param.compute, processor))
        else:  # a constant of the statement (a literal, a key)
            value = params[name]
            fill.append((lambda _, value=value: value, processor))
    return Plan(compiled.string, tuple(fill), tuple(context.guards))
