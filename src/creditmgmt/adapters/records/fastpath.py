"""Generated fast structuring of attrs classes, with the cattrs path as the only authority.

cattrs' generated structure function for an attrs class collects every field into a dict,
wraps each field in its own error bookkeeping, builds the set of the document's keys to
refuse unknown ones, and calls the class with `**res`. For the small value classes a stored
loan is made of (an instalment, what was paid against it: ~30 per loan, ~100 `Money`) that
bookkeeping costs more than the values themselves.

`FastStructure.hook(cls, slow)` gives a hook that first tries a function generated for
`cls` which takes only documents it reads exactly as `slow` would, and gives `slow(o, t)`
for anything else. The generated function accepts a field's value only in the form JSON
gives it and the slow path would keep as it is:

- `int`, `str`, `bool`: a value of exactly that type (the codec's hooks take nothing else:
  `"5"` or `5.0` for an int go the slow way, which refuses them);
- `Money`: a dict of exactly `amount` and `currency` whose pair is in the codec's memo, or
  two texts read as the codec's hook reads them on a miss;
- a type the codec names a text reader for (dates, identifiers): a `str`, read by it;
- an attrs class this module compiles: its generated function, recursively;
- `tuple[X, ...]`: a JSON list, each element as `X`; `X | None`: None, or as `X`;
- anything else: the converter's own hook for that type, as cattrs would call it.

The document must be a dict holding every required field, optional ones as present, and no
other key (its length is the number of fields found). The class is built by calling it, so
its validators run as on the slow path. Any exception at all — a missing key, another type,
a refused value — abandons the fast attempt of the outermost hook, and the slow path reads
the document from the start: it gives the value or raises exactly what it always did.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Collection
from typing import Any, Final

import attrs
import cattrs

#: cattrs structures these by calling the type on the value: for a value of exactly that
#: type the result is the value itself.
_PLAIN: Final = (int, str, bool)

Fast = Callable[[Any], Any]
Hook = Callable[[Any, Any], Any]


class _NotFast(Exception):
    """The document is not in the one form the generated function takes."""


class FastStructure:
    """The generated functions of one converter (see the module doc).

    `compilable(t)`: the attrs classes the converter structures with its attrs factory (not
    the ones it has own hooks for). `money_type` is read through `money_memo` (amount and
    currency texts → the value), and `money_miss(amount, currency)` for two texts it does
    not hold: exactly what the converter's hook gives for such a document.
    `text_reader(t)`: for a type whose hook reads a `str` value `v` as `reader(v)`, that
    reader (other values take the hook), else None.
    """

    def __init__(
        self,
        converter: cattrs.Converter,
        *,
        compilable: Callable[[object], bool],
        money_type: type,
        money_memo: dict[tuple[str, str], Any],
        money_miss: Callable[[str, str], Any],
        text_reader: Callable[[object], Callable[[str], Any] | None] = lambda _: None,
    ) -> None:
        self._converter = converter
        self._compilable = compilable
        self._money_type = money_type
        self._money_memo = money_memo
        self._money_miss = money_miss
        self._text_reader = text_reader
        self._compiled: dict[tuple[type, frozenset[str]], Fast] = {}
        self._compiling: set[type] = set()

    def hook(self, cls: type, slow: Hook, *, omit: Collection[str] = ()) -> Hook:
        """A structure hook for `cls`: the generated function, or `slow` for what it does
        not take (`omit`: fields the documents do not hold; the class's defaults apply)."""
        if cls in self._compiling or not _generable(cls):
            return slow  # a class whose fields reach back to it is read by cattrs there
        fast = self.function(cls, omit=omit)

        def structure(value: Any, declared: Any) -> Any:
            try:
                return fast(value)
            except Exception:  # the slow path decides, and explains
                return slow(value, declared)

        structure.__qualname__ = f"structure_fast_{cls.__name__}"
        return structure

    def function(self, cls: type, *, omit: Collection[str] = ()) -> Fast:
        """The generated function of `cls`: the value, or an exception for any document
        the slow path might read otherwise."""
        key = (cls, frozenset(omit))
        found = self._compiled.get(key)
        if found is None:
            self._compiling.add(cls)
            try:
                found = self._compiled[key] = self._generate(cls, key[1])
            finally:
                self._compiling.discard(cls)
        return found

    # generation ---------------------------------------------------------------------------
    def _generate(self, cls: type, omit: frozenset[str]) -> Fast:
        attrs.resolve_types(cls)
        ns: dict[str, Any] = {
            "_cls": cls,
            "_NotFast": _NotFast,
            "_memo_get": self._money_memo.get,
            "_money_miss": self._money_miss,
        }
        body: list[str] = _refuse_if("type(o) is not dict", "    ")
        positional: list[str] = []
        keywords: list[str] = []
        required = 0
        has_optional = skipped = False
        for i, field in enumerate(attrs.fields(cls)):
            if not field.init:
                continue  # not a parameter of __init__
            if field.name in omit:
                skipped = True  # a parameter left to its default: later ones by keyword
                continue
            if field.converter is not None or field.type is None:
                raise TypeError(f"{cls.__qualname__}.{field.name}: not generated")
            var = f"v{i}"
            if field.default is attrs.NOTHING:
                required += 1
                body.append(f"    {var} = o[{field.name!r}]")
                body.extend(self._value(var, field.type, ns, f"{i}", "    "))
                if not (field.kw_only or keywords or has_optional or skipped):
                    positional.append(var)
                else:
                    keywords.append(f"{field.alias}={var}")
            else:
                has_optional = True
                body.append(f"    if {field.name!r} in o:")
                body.append("        n += 1")
                body.append(f"        {var} = o[{field.name!r}]")
                body.extend(self._value(var, field.type, ns, f"{i}", "        "))
                body.append(f"        kw[{field.alias!r}] = {var}")
        lines = [f"def fast_{cls.__name__}(o):"]
        if has_optional:
            lines += ["    n = 0", "    kw = {}", *body]
            lines += _refuse_if(f"len(o) != {required} + n", "    ")
        else:  # the key count first: an unknown key takes the slow path at once
            lines += [*body[:2], *_refuse_if(f"len(o) != {required}", "    ")]
            lines += body[2:]
        arguments = [*positional, *keywords, *(["**kw"] if has_optional else [])]
        lines.append(f"    return _cls({', '.join(arguments)})")
        # safe: built from the class's own field names and aliases (repr-quoted or
        # identifiers), no outside text
        code = compile("\n".join(lines), f"<fast structure {cls.__qualname__}>", "exec")
        exec(code, ns)  # noqa: S102
        function: Fast = ns[f"fast_{cls.__name__}"]
        return function

    def _value(self, var: str, tp: Any, ns: dict[str, Any], tag: str, indent: str) -> list[str]:
        """Statements turning the document value in `var` into the field's value in place."""
        if tp in _PLAIN:
            return _refuse_if(f"type({var}) is not {tp.__name__}", indent)
        if tp is self._money_type:
            return [
                *_refuse_if(f"type({var}) is not dict or len({var}) != 2", indent),
                # both keys present (else KeyError) and no third: the slow path's key set
                f"{indent}a, c = {var}['amount'], {var}['currency']",
                f"{indent}m = _memo_get((a, c))",
                f"{indent}if m is not None:",
                f"{indent}    {var} = m",
                f"{indent}elif type(a) is str and type(c) is str:",
                f"{indent}    {var} = _money_miss(a, c)",
                f"{indent}else:",
                f"{indent}    raise _NotFast",
            ]
        reader = self._text_reader(tp)
        if reader is not None:
            ns[f"_r{tag}"] = reader
            return [
                *_refuse_if(f"type({var}) is not str", indent),
                f"{indent}{var} = _r{tag}({var})",
            ]
        special = self._special(tp)
        if special is not None:
            ns[f"_f{tag}"] = special
            return [f"{indent}{var} = _f{tag}({var})"]
        # the converter's own hook, called as cattrs' generated code calls it
        ns[f"_h{tag}"], ns[f"_t{tag}"] = self._converter.get_structure_hook(tp), tp
        return [f"{indent}{var} = _h{tag}({var}, _t{tag})"]

    def _unary(self, tp: Any) -> Fast:
        """A one-argument function for a value of type `tp` (see `_value`)."""
        special = self._special(tp)
        if special is not None:
            return special
        hook = self._converter.get_structure_hook(tp)

        def other(v: Any) -> Any:
            return hook(v, tp)

        return other

    def _special(self, tp: Any) -> Fast | None:
        """A one-argument function for `tp` other than the converter's hook, or None."""
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        reader = self._text_reader(tp)
        if reader is not None:

            def text(v: Any) -> Any:
                if type(v) is not str:
                    raise _NotFast
                return reader(v)

            return text
        if tp in _PLAIN or tp is self._money_type:
            ns: dict[str, Any] = {
                "_NotFast": _NotFast,
                "_memo_get": self._money_memo.get,
                "_money_miss": self._money_miss,
            }
            lines = ["def one(v):", *self._value("v", tp, ns, "x", "    "), "    return v"]
            exec(compile("\n".join(lines), f"<fast structure {tp.__name__}>", "exec"), ns)  # noqa: S102
            one: Fast = ns["one"]
            return one
        if (
            isinstance(tp, type)
            and tp not in self._compiling
            and self._compilable(tp)
            and _generable(tp)
        ):
            return self.function(tp)
        if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
            element = self._unary(args[0])

            def homogeneous(v: Any) -> tuple[Any, ...]:
                if type(v) is not list:
                    raise _NotFast
                return tuple([element(e) for e in v])

            return homogeneous
        if origin in (typing.Union, types.UnionType) and len(args) == 2 and type(None) in args:
            inner = self._unary(args[0] if args[1] is type(None) else args[1])

            def optional(v: Any) -> Any:
                return None if v is None else inner(v)

            return optional
        return None


def _refuse_if(condition: str, indent: str) -> list[str]:
    """Generated statements that leave the fast path (`_NotFast`) when `condition` holds."""
    return [f"{indent}if {condition}:", f"{indent}    raise _NotFast"]


def _generable(cls: type) -> bool:
    """Whether `FastStructure` can generate a function for attrs class `cls`."""
    return all(f.converter is None and f.type is not None for f in attrs.fields(cls) if f.init)
