"""The plain text a support agent pastes into a ticket, in either language: the answers (those
the customer did not know marked), the result or the candidates, the pasted excerpt, the
related incident reports and the permanent link."""

from django.utils import translation
from django.utils.translation import gettext as _


def ticket_summary(
    views, rows, lang, permalink, paste="", absolute=lambda url: url, not_covered=False, described="", single=False
):
    """``views``: the CandidateView of each cause shown (the leader first on a result page);
    ``rows``: the answered() rows; ``single``: a result page (the others are "also possible").
    ``not_covered``: the wizard does not cover the problem, and
    a person takes over (``described``: the customer's words)."""
    with translation.override(lang):
        title = _("Troubleshooting: not covered by the wizard, for a person to take over")
        shown = views[:1] if single else views
        lines = [title if not_covered else heading(shown), "", label(_("Answers"))]
        if described:
            words = _("In the customer’s words")  # outside the f-string, so that makemessages finds it
            lines.insert(2, f"{label(words)} {described}")
        lines += [f"- {row['question']} → {row['answer']}{marker(row)}" for row in rows] or ["- " + _("none")]
        if paste:
            lines += ["", label(_("Pasted text (excerpt)")), paste]
        for number, view in enumerate(shown, 1):
            lines += [""] + candidate_lines(view, number if len(shown) > 1 else None, lang, absolute)
        if single and len(views) > 1:
            lines += ["", label(_("Also possible"))] + [f"- {view.node.text[lang]}" for view in views[1:]]
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
    lines += [f"  {not_known}: {row['question']} ({pointing(row['answer'])})" for row in view.open]
    lines.append(label(_("Remediation")))
    lines += [f"  {n}. {os_prefix(step, view)}{step['text'][lang]}" for n, step in enumerate(view.remediation, 1)]
    links = [link for link in view.links if not link.missing]
    if links:
        lines.append(label(_("Articles")))
        lines += [
            f"  - {link.title}{' › ' + link.section if link.section else ''}: {absolute(link.url)}" for link in links
        ]
    return lines


def pointing(answer):
    return _("“%(answer)s” would point here") % {"answer": answer}


def os_prefix(step, view):
    """``[Windows] `` / ``[Linux] `` before a step for one OS while the walk does not know it."""
    if not step.get("os") or view.os:
        return ""
    return "[Windows] " if step["os"] == "windows" else "[Linux] "
