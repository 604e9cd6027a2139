"""The survey's HTML: the form a customer answers, and the pages for a thank-you and for a link
that cannot be used. Plain HTML that works without JavaScript, every value escaped."""

from __future__ import annotations

from html import escape

from services.messaging.domain.surveys import Question, Survey, SurveyForm

STYLE = """
body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#222}
fieldset{border:1px solid #ccc;border-radius:.5rem;margin:1rem 0;padding:1rem}
legend{font-weight:600}label{margin-right:1rem;display:inline-block}
textarea{width:100%;min-height:5rem}.error{color:#b00020}button{font-size:1rem;padding:.5rem 1.5rem}
"""


def page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )


def form_page(survey: Survey, form: SurveyForm, errors: dict[str, str] | None = None) -> str:
    errors = errors or {}
    greeting = f"<p>Hello {escape(survey.contact_name)},</p>" if survey.contact_name else ""
    fields = "".join(_question(q, errors.get(q.id)) for q in form.all_questions)
    problems = "".join(
        f"<p class=error>{escape(name)}: {escape(message)}</p>"
        for name, message in errors.items()
        if name not in {q.id for q in form.all_questions}
    )
    return page(
        "How did we do?",
        f"{greeting}<p>Thank you for your business. A minute of your time helps us do better.</p>"
        f"{problems}<form method=post>{fields}<button type=submit>Send</button></form>",
    )


def _question(question: Question, error: str | None) -> str:
    name = escape(question.id)
    required = " required" if question.required else ""
    match question.type:
        case "rating":
            inputs = "".join(
                f'<label><input type=radio name="{name}" value="{n}"{required}> {n}</label>'
                for n in range(1, 6)
            )
        case "yes_no":
            inputs = "".join(
                f'<label><input type=radio name="{name}" value="{v}"{required}> {v.title()}</label>'
                for v in ("yes", "no")
            )
        case "choice":
            inputs = "".join(
                f'<label><input type=radio name="{name}" value="{escape(c)}"{required}> '
                f"{escape(c)}</label>"
                for c in question.choices
            )
        case _:
            inputs = f'<textarea name="{name}" maxlength=5000{required}></textarea>'
    shown = f"<p class=error>{escape(error)}</p>" if error else ""
    return f"<fieldset><legend>{escape(question.prompt)}</legend>{shown}{inputs}</fieldset>"


def thanks_page() -> str:
    return page("Thank you!", "<p>Your answers are in. Thank you for helping us improve.</p>")


def unavailable_page(message: str) -> str:
    return page(
        "Survey unavailable",
        f"<p>{escape(message)}</p><p>If you want to tell us something, please call our office.</p>",
    )
