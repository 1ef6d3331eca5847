"""`render_form(form)` in templates: a WTForms form as Bootstrap 5 markup.

Each input is still drawn by its field's own widget; only the markup around
them (the form element, a labelled block per field, its error messages) is put
together here rather than in a Jinja macro, whose call per field and import per
page cost as much as the rest of the name page.
"""

from __future__ import annotations

from markupsafe import Markup, escape
from wtforms import Form
from wtforms.fields import Field

# Drawn as they are, without a label: the CSRF token and other hidden inputs
# first, the buttons last.
HIDDEN_FIELD_TYPES = frozenset({"CSRFTokenField", "HiddenField"})
BUTTON_FIELD_TYPES = frozenset({"SubmitField"})


def render_field(field: Field) -> str:
    """A labelled Bootstrap block: the input, marked invalid with its errors."""
    input_class = "form-control is-invalid" if field.errors else "form-control"
    lines = [
        '<div class="mb-3">',
        f'  <label class="form-label" for="{escape(field.id)}">'
        f"{escape(field.label.text)}</label>",
        f"  {field(class_=input_class)}",
    ]
    lines += [
        f'  <div class="invalid-feedback">{escape(message)}</div>'
        for message in field.errors
    ]
    lines.append("</div>")
    return "\n".join(lines)


def render_form(form: Form, action: str = "") -> Markup:
    """The whole form, POSTed to `action` (this page by default)."""
    hidden: list[str] = []
    blocks: list[str] = []
    buttons: list[str] = []
    for field in form:
        if field.type in HIDDEN_FIELD_TYPES:
            hidden.append(str(field()))
        elif field.type in BUTTON_FIELD_TYPES:
            buttons.append(str(field(class_="btn btn-primary")))
        else:
            blocks.append(render_field(field))
    body = "\n".join([*hidden, *blocks, *buttons]).replace("\n", "\n  ")
    return Markup(
        f'<form method="post" action="{escape(action)}" novalidate>\n  {body}\n</form>'
    )
