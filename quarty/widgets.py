"""WTForms widgets that render the same HTML as WTForms' own, at a fraction of the cost.

WTForms builds each attribute with `Markup.format`, which runs Python's
`string.Formatter` and escapes every piece again; on the name page that was a
third of the CPU of a GET. `html_params` here makes the same string directly.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from markupsafe import Markup, escape
from wtforms import widgets
from wtforms.csrf.core import CSRFTokenField as _CSRFTokenField
from wtforms.fields import Field


def clean_key(key: str) -> str:
    """WTForms' own: `class_` is `class`, `data_x_y` is `data-x-y` (and `aria_`)."""
    key = key.rstrip("_")
    if key.startswith(("data_", "aria_")):
        key = key.replace("_", "-")
    return key


@lru_cache(maxsize=256)
def _attribute_name(key: str) -> str:
    # Keyword names come from code, a handful of them; each is cleaned once.
    return str(escape(clean_key(key)))


def html_params(**kwargs: Any) -> Markup:
    """Exactly `wtforms.widgets.html_params`: sorted keys, True bare, False left out."""
    params = []
    for key, value in sorted(kwargs.items()):
        name = _attribute_name(key)
        if value is True:
            params.append(name)
        elif value is not False:
            params.append(f'{name}="{str(escape(value)).replace(chr(34), "&quot;")}"')
    return Markup(" ".join(params))


class _Input(widgets.Input):
    """WTForms' `Input.__call__`, with the field's flags read without `dir()`.

    WTForms lists every attribute of the field's Flags object with `dir()` to
    find the few this widget shows (required, maxlength, …): a third of the
    call. A flag is an attribute set on that object, so the widget's own
    `validation_attrs` are looked up in its `__dict__` instead; same result.
    """

    html_params = staticmethod(html_params)

    def __call__(self, field: Field, **kwargs: object) -> Markup:
        kwargs.setdefault("id", field.id)
        kwargs.setdefault("type", self.input_type)
        if "value" not in kwargs:
            # Every WTForms field has _value(); the stubs leave it out.
            kwargs["value"] = field._value()  # type: ignore[attr-defined]
        datalist = getattr(field, "_datalist", None)
        if datalist is not None and "list" not in kwargs:
            kwargs["list"] = datalist if isinstance(datalist, str) else datalist.id
        flags = getattr(getattr(field, "flags", None), "__dict__", {})
        for key in self.validation_attrs:
            if key in flags and key not in kwargs:
                value = flags[key]
                kwargs[key] = value() if callable(value) else value
        return Markup(f"<input {self.html_params(name=field.name, **kwargs)}>")


# Each takes its type and validation_attrs from WTForms' class, its __call__
# from _Input (SubmitInput's own, which defaults the value to the label, first).
class TextInput(widgets.TextInput, _Input):
    pass


class HiddenInput(widgets.HiddenInput, _Input):
    pass


class SubmitInput(widgets.SubmitInput, _Input):
    pass


class CSRFTokenField(_CSRFTokenField):
    widget = HiddenInput()
