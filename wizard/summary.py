"""The plain text a support agent pastes into a ticket, in either language: the answers (those
the customer did not know marked), the result or the candidates, the pasted excerpt, the
related incident reports and the permanent link."""

from django.utils import translation
from django.utils.translation import gettext as _


def ticket_summary(views, rows, lang, permalink, paste="", absolute=lambda url: url):
    """``views``: the CandidateView of each result (one for a result page); ``rows``: the
    answered() rows."""
    with translation.override(lang):
        lines = [heading(views), "", label(_("Answers"))]
        lines += [f"- {row['question']} → {row['answer']}{marker(row)}" for row in rows] or ["- " + _("none")]
        if paste:
            lines += ["", label(_("Pasted text (excerpt)")), paste]
        for number, view in enumerate(views, 1):
            lines += [""] + candidate_lines(view, number if len(views) > 1 else None, lang, absolute)
        rcas = {link.url: link for view in views for link in view.rcas if not link.missing}
        if rcas:
            lines += ["", label(_("Related incident reports (RCA)"))]
            lines += [f"- {link.title}: {absolute(link.url)}" for link in rcas.values()]
        permanent = _("Permanent link")
        lines += ["", f"{permanent}: {permalink}"]
    return "\n".join(lines)


def label(text):
    return text if text.endswith((":", "：")) else f"{text}:"


def heading(views):
    if len(views) == 1:
        title = _("Troubleshooting result")
        return f"{title}: {views[0].node.text[translation.get_language()]}"
    return _("Troubleshooting: %(n)d possible causes, not yet told apart") % {"n": len(views)}


def marker(row):
    not_known = _("the customer does not know")
    return f" ({not_known})" if row["unknown"] else ""


def candidate_lines(view, number, lang, absolute):
    prefix = f"{number}. " if number else ""
    lines = [f"{prefix}{view.node.text[lang]}"] if number else []
    cause = _("Likely cause") if not number else _("Cause if so")
    not_known = _("Not known")
    lines.append(f"{cause}: {view.cause['text'][lang]}")
    lines += [f"  {not_known}: {row['question']} → {row['answer']}" for row in view.open]
    lines.append(label(_("Remediation")))
    lines += [f"  {n}. {step['text'][lang]}" for n, step in enumerate(view.remediation, 1)]
    links = [link for link in view.links if not link.missing]
    if links:
        lines.append(label(_("Articles")))
        lines += [
            f"  - {link.title}{' › ' + link.section if link.section else ''}: {absolute(link.url)}" for link in links
        ]
    return lines
