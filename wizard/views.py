"""The wizard's pages. Each resolves the tree and the answers, asks wizard.walking where they
lead, and renders; an htmx request gets the swappable part of the same template."""

import hashlib
import secrets
from functools import wraps

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from kb import counters, shared
from kb.caching import revalidated
from kb.site_url import absolute_url
from wizard import answered, articles, incidents, legacy, links, moments, outcome, paste, tree_cache, walking
from wizard import diagram as tree_diagram
from wizard.model import model_of
from wizard.models import Feedback, ResultStat
from wizard.summary import ticket_summary
from wizard.walk_url import PASTE_EXCERPT_LIMIT, WalkURL

PASTE_LIMIT = 200_000
VISITOR_COOKIE = "kb_visitor"
VOTES_PER_WINDOW = 20
VOTE_WINDOW_SECONDS = 600


def counted(view):
    """Count a result reached (a full page view) even when the page comes from the cache: in
    the shared cache, written to the database in batches (kb.counters), never per view."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        node = response.get(RESULT_NODE_HEADER)
        if node and not request.htmx and response.status_code == 200:
            counters.bump("wizard.ResultStat", {"tree": kwargs["tree"], "node": node}, reached=1)
        return response

    return wrapper


RESULT_NODE_HEADER = "X-Result-Node"
# Which outcome a page shows (result, candidates, not-covered): the candidates view shows all
# three, so kb.metrics reads this instead of the URL's name.
OUTCOME_HEADER = "X-Wizard-Outcome"


def tree_or_404(slug):
    try:
        return tree_cache.live_tree(slug)
    except tree_cache.TreeNotFound:
        raise Http404("no such troubleshooting tree") from None


@require_safe
def start(request):
    """The wizard's front door: every tree, the paste box, and "I already know some answers"."""
    text = request.GET.get("paste", "")[:PASTE_LIMIT]
    if text:
        return paste_page(request, text)
    return render(request, "wizard/start.html", {"trees": tree_cache.live_trees()})


@require_POST
def paste_box(request):
    return paste_page(request, request.POST.get("text", "")[:PASTE_LIMIT])


def paste_page(request, text):
    """What the paste was recognised as (each text highlighted), the findings that sets and
    the OS it tells, and the choice to go on from there or from the first question; when
    nothing is recognised, the articles that match."""
    lang = get_language()
    found = []
    for live in tree_cache.live_trees():
        recognised = paste.recognised_texts(live.tree, text)
        os, hint = paste.os_hint(live.tree, text)
        if not recognised:
            continue
        values = {q: v for q, v in paste.findings_of(live.tree, recognised).items() if q != walking.OS}
        os = paste.findings_of(live.tree, recognised).get(walking.OS, os)
        answers = walking.Answers({**values, **({walking.OS: os} if os else {})})
        excerpt = paste.recognised_excerpt(text, recognised, PASTE_EXCERPT_LIMIT)
        found.append(
            {
                "live": live,
                "marked": marked(text, recognised),
                "texts": [item.text for item in recognised],
                "assumed": answered.answered(live.tree, answers, lang),
                "os": os,
                "os_hint": hint,
                "continue_url": links.step_url(live.tree.slug, answers, p=excerpt),
            }
        )
    context = {"text": text, "found": found, "trees": tree_cache.live_trees(), "results": None}
    if not found and text.strip():
        context["results"] = search_for(text, lang)
    return render(request, "wizard/paste.html", context)


def marked(text, recognised, around=paste.EXCERPT_AROUND):
    """The paste around what was recognised, as (text, recognised?) pieces: every recognised
    text highlighted, the rest cut to ``around`` characters on each side."""
    pieces, cursor = [], 0
    for item in recognised:
        if item.start < cursor:
            continue
        gap = text[cursor : item.start]
        if len(gap) > 2 * around:
            gap = (gap[:around] if cursor else "") + " … " + gap[-around:]
        pieces += [(gap, False), (item.text, True)]
        cursor = item.end
    tail = text[cursor:]
    pieces.append((tail[:around] + (" …" if len(tail) > around else ""), False))
    return pieces


def search_for(text, lang):
    from kb import reports, search
    from kb.forms import search_params

    try:
        return reports.search(search_params({"q": text[:300], "limit": 5}), lang)
    except search.SearchUnavailable:
        return None


@require_safe
@vary_on_headers("HX-Request")
@revalidated
def step(request, tree):
    wizard = WalkURL(request, tree_or_404(tree))
    walk = wizard.step()
    if walk.finished:
        return redirect(
            links.outcome_url(
                wizard.live, walk, wizard.answers, timezone.localdate(), wizard.paste, wizard.stop, wizard.described
            )
        )
    return render_step(request, wizard, walk)


def render_step(request, wizard, walk, problem=""):
    lang, slug, answers = get_language(), wizard.tree.slug, wizard.answers
    node = walk.question
    texts = articles.texts_of(outcome.cited_slugs(wizard.tree, []))
    os = walking.os_of(wizard.tree, answers)
    context = {
        "live": wizard.live,
        "node": node,
        "lang": lang,
        "os": os,
        "problem": problem or wizard.problem,
        "help": articles.statement(node.help, lang, texts, os) if node.help else None,
        "history": answered.answered(wizard.tree, answers, lang, slug, wizard.paste),
        "choices": [
            {
                "answer": a,
                "url": links.step_url(slug, answers.with_answer(node.id, a.id), p=wizard.paste),
                "encoded": answers.with_answer(node.id, a.id).encode(),
            }
            for a in node.known_answers
        ],
        "unknown_url": links.step_url(slug, answers.with_answer(node.id, walking.UNKNOWN), p=wizard.paste),
        "answers": answers.encode(),
        "paste": wizard.paste,
        "candidates": walk.candidates,
        "stop_url": links.step_url(slug, answers, p=wizard.paste, end=1),
        "restart_url": links.step_url(slug, walking.Answers()),
        "back_url": links.step_url(slug, answers.before(list(answers.values)[-1]), p=wizard.paste)
        if answers.values
        else None,
        "progress": len(answers.values) + 1,
        "known_url": reverse("wizard:known", kwargs={"tree": slug}),
        "parts": parts(),
    }
    template = "wizard/step.html#step" if request.htmx else "wizard/step.html"
    return render(request, template, context)


@require_safe
def when(request, tree):
    """The "when did it start?" form: a date, and a time or a part of the day if known."""
    wizard = WalkURL(request, tree_or_404(tree))
    node_id = request.GET.get("node", "")
    moment = moments.from_form(
        request.GET.get("date"), request.GET.get("time"), request.GET.get("part"), request.GET.get("tz")
    )
    node = wizard.tree.nodes.get(node_id)
    if moment is None or node is None or node.kind != "when":
        walk = wizard.step()
        if walk.finished:
            return redirect(links.outcome_url(wizard.live, walk, wizard.answers, timezone.localdate(), wizard.paste))
        return render_step(
            request, wizard, walk, _("Enter the date (the time or the part of the day only if you know it).")
        )
    answers = wizard.answers.with_answer(node_id, moment.encode())
    return redirect(links.step_url(wizard.tree.slug, answers, p=wizard.paste))


@require_safe
def known(request, tree):
    """For a support agent with a ticket open: every question the diagnosis may ask, the OS
    and when it started, at once. What is filled in is taken as answered (never asked again),
    and the wizard asks only what it still needs."""
    live = tree_or_404(tree)
    lang = get_language()
    model = model_of(live.tree)
    questions = [
        live.tree.nodes[q]
        for q in model.askable
        if q in live.tree.nodes and live.tree.nodes[q].kind == "question" and q not in model.os_questions
    ]
    if "filled" in request.GET:
        values = {}
        if request.GET.get("os") in walking.OS_VALUES:
            values[walking.OS] = request.GET["os"]
        order = {q: i for i, q in enumerate(model.askable)}
        for node in sorted(live.tree.nodes.values(), key=lambda n: order.get(n.id, len(order))):
            value = request.GET.get(f"q-{node.id}", "")
            if node.kind == "question" and walking.valid_answer(live.tree, node.id, value):
                values[node.id] = value
        moment = moments.from_form(
            request.GET.get("date"), request.GET.get("time"), request.GET.get("part"), request.GET.get("tz")
        )
        when_node = next((q for q in model.askable if q in model.when_nodes), None)
        if moment is not None and when_node:
            values[when_node] = moment.encode()
        return redirect(links.step_url(live.tree.slug, walking.Answers(values)))
    context = {
        "live": live,
        "questions": questions,
        "lang": lang,
        "parts": parts(),
        "asks_when": bool(model.when_nodes),
    }
    return render(request, "wizard/known.html", context)


def parts():
    return [(part, label) for part, (_first, _last, label) in moments.PARTS.items()]


@require_safe
@vary_on_headers("HX-Request")
@counted
@revalidated
def result(request, tree, node):
    live = tree_or_404(tree)
    raw = request.GET.get("a", "")
    recorded = recorded_tree(live, request.GET.get("r"))
    if legacy.is_positional(raw) and recorded is not None and recorded is not live:
        old = legacy.walk(recorded.tree, raw.split(","), incidents.impact_windows())
        if old.finished and old.node.id == node:
            return render_legacy(request, recorded, old)
    wizard = WalkURL(request, live)
    walk = wizard.step()
    if leads_to(walk, node):
        return render_outcome(request, wizard, walk, changed_notices(live, recorded))
    then = WalkURL(request, recorded) if recorded is not None and recorded is not live else wizard
    old_walk = then.tree_walk()  # a link made by the tree's walk: the result as it was
    if leads_to(old_walk, node):
        if then is wizard:
            notice = _("The wizard weighs these answers differently now; this is the result this link was made for.")
        else:
            notice = _("The troubleshooting tree changed since this link was made. This is the result as it was then.")
        return render_outcome(request, then, old_walk, [notice])
    if not walk.finished:
        notice = _("This link is damaged or unknown: its answers do not lead to this result.")
        return render_step(request, wizard, walk, notice)
    return redirect(links.outcome_url(live, walk, wizard.answers, timezone.localdate(), wizard.paste))


@require_safe
@vary_on_headers("HX-Request")
@revalidated
def candidates(request, tree):
    wizard = WalkURL(request, tree_or_404(tree))
    walk = wizard.step()
    if not walk.finished:
        return redirect(links.step_url(wizard.tree.slug, wizard.answers, p=wizard.paste))
    if walk.result is not None:
        return redirect(
            links.outcome_url(wizard.live, walk, wizard.answers, parse_date(request.GET.get("at")), wizard.paste)
        )
    notices = changed_notices(wizard.live, recorded_tree(wizard.live, request.GET.get("r")))
    return render_outcome(request, wizard, walk, notices)


def leads_to(walk, node):
    return walk.finished and walk.result is not None and walk.result.id == node


def recorded_tree(live, number):
    try:
        number = int(number)
    except (TypeError, ValueError):
        return live
    if number == live.revision.number:
        return live
    return tree_cache.tree_at(live.tree.slug, number)


def changed_notices(live, recorded):
    if recorded is not None and recorded is not live:
        return [_("The troubleshooting tree was updated since this link was made; this result is still the same.")]
    return []


def render_outcome(request, wizard, walk, notices):
    lang, live, answers = get_language(), wizard.live, wizard.answers
    made_on = parse_date(request.GET.get("at"))
    os = walking.os_of(live.tree, answers)
    views = outcome.candidate_views(
        live, walk.candidates, answers, lang, os, made_on, wizard.paste, incidents.worded(lang)
    )
    if wizard.problem:  # answers of the link were left out: a reader must not take it as whole
        notices.insert(0, wizard.problem)
    if any(link.updated_since for view in views for link in view.links):
        notices.append(_("An article this result cites was updated since this link was made."))
    permalink = absolute_url(
        links.outcome_url(
            live, walk, answers, made_on or timezone.localdate(), wizard.paste, wizard.stop, wizard.described
        )
    )
    rows = answered.answered(live.tree, answers, lang, live.tree.slug, wizard.paste)
    single = walk.result is not None
    not_covered = getattr(walk, "not_covered", False)
    words = wizard.described or wizard.paste
    context = {
        "not_covered": not_covered,
        "described": wizard.described,
        "search_results": search_for(words, lang) if not_covered and words else None,
        "live": live,
        "lang": lang,
        "views": views,
        "single": single,
        "node": views[0].node if single else None,
        "also_possible": views[1:] if single else [],
        "notices": notices,
        "history": rows,
        "os": os,
        "permalink": permalink,
        "paste": wizard.paste,
        "summary": ticket_summary(
            views,
            rows,
            lang,
            permalink,
            wizard.paste,
            absolute_url,
            not_covered=not_covered,
            described=wizard.described,
            single=single,
        ),
        "voted": request.GET.get("voted"),
        "answers": answers.encode(),
        "back_url": links.step_url(live.tree.slug, answers.before(list(answers.values)[-1]), p=wizard.paste)
        if answers.values
        else None,
    }
    template = "wizard/outcome.html#outcome" if request.htmx else "wizard/outcome.html"
    response = render(request, template, context)
    if request.htmx:  # the step that led here was redirected: show the outcome's own URL
        response["HX-Push-Url"] = request.get_full_path()
    if single:
        response[RESULT_NODE_HEADER] = walk.result.id
    response[OUTCOME_HEADER] = "not-covered" if not_covered else "result" if single else "candidates"
    return response


def render_legacy(request, recorded, old):
    """A link of the old kind, shown as it was then (the tree it names, the walk of then)."""
    lang = get_language()
    candidate = walking.Candidate(old.node, ())
    views = outcome.candidate_views(recorded, [candidate], walking.Answers(), lang, "", None)
    rows = [
        {"question": node.text[lang], "answer": legacy_answer(node, value, lang), "unknown": value == walking.UNKNOWN}
        for node, value, _incident in old.steps
    ]
    notices = [_("The troubleshooting tree changed since this link was made. This is the result as it was then.")]
    permalink = absolute_url(request.get_full_path())
    context = {
        "live": recorded,
        "lang": lang,
        "views": views,
        "single": True,
        "node": old.node,
        "notices": notices,
        "history": rows,
        "permalink": permalink,
        "summary": ticket_summary(views, rows, lang, permalink, "", absolute_url),
        "legacy": True,
        "restart_url": links.step_url(recorded.tree.slug, walking.Answers()),
    }
    return render(request, "wizard/outcome.html", context)


def legacy_answer(node, value, lang):
    if value == walking.UNKNOWN:
        return _("I don't know")
    if node.kind == "when":
        moment = moments.parse(value)
        return moments.describe(moment, lang) if moment else value
    answer = node.answer(value)
    return answer.label[lang] if answer else value


def parse_date(text):
    import datetime as dt

    try:
        return dt.date.fromisoformat((text or "")[:10])
    except ValueError:
        return None


def vote_counts(tree, node):
    return Feedback.objects.filter(tree=tree, node=node).aggregate(
        yes=Count("pk", filter=Q(helpful=True)), no=Count("pk", filter=Q(helpful=False))
    )


@require_http_methods(["GET", "HEAD", "POST"])
def feedback(request, tree, node):
    """This visitor's part of a result page: the vote form (with its CSRF token) and their
    vote. GET: the form (an htmx fragment, or a page of its own without JavaScript); POST:
    the vote."""
    live = tree_or_404(tree)
    if node not in live.tree.nodes or live.tree.nodes[node].kind != "result":
        raise Http404("no such result")
    back = request.POST.get("next") or request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = reverse("wizard:result", kwargs={"tree": tree, "node": node})
    if request.method != "POST":
        mine = Feedback.objects.filter(tree=tree, node=node, visitor=known_visitor(request))
        context = {"live": live, "node": live.tree.nodes[node], "back": back, "votes": vote_counts(tree, node)}
        context["mine"] = next(iter(mine.values_list("helpful", flat=True)), None)
        template = "wizard/feedback.html#form" if request.htmx else "wizard/feedback.html"
        response = render(request, template, context)
        patch_cache_control(response, private=True, no_cache=True)
        return response
    if too_many_votes(request):
        return render(request, "wizard/feedback_limited.html", {"back": back}, status=429)
    visitor = visitor_id(request)
    helpful = request.POST.get("helpful") == "yes"
    try:
        with transaction.atomic():
            Feedback.objects.update_or_create(tree=tree, node=node, visitor=visitor, defaults={"helpful": helpful})
    except IntegrityError:
        pass  # the same visitor voting twice at the same instant: one vote stands
    response = redirect(back + ("&" if "?" in back else "?") + "voted=1")
    response.set_signed_cookie(
        VISITOR_COOKIE,
        visitor,
        salt="kb.visitor",
        max_age=365 * 86400,
        httponly=True,
        samesite="Lax",
        secure=settings.HTTPS,
    )
    return response


def known_visitor(request):
    try:
        return request.get_signed_cookie(VISITOR_COOKIE, salt="kb.visitor")
    except (KeyError, signing.BadSignature):
        return ""


def visitor_id(request):
    return known_visitor(request) or secrets.token_hex(16)


def too_many_votes(request):
    """Votes per client address in a window, counted in the shared cache: one limit across
    processes and nodes when Redis is configured (kb.shared)."""
    key = "votes:" + hashlib.sha256(client_address(request).encode()).hexdigest()
    return shared.incr(key, 1, VOTE_WINDOW_SECONDS) > VOTES_PER_WINDOW


def client_address(request):
    """The client's address as seen through ``settings.KB_TRUSTED_PROXIES`` proxies: the
    address each of them added to X-Forwarded-For is trusted, anything before is not."""
    proxies = settings.KB_TRUSTED_PROXIES
    if proxies <= 0:
        return request.META.get("REMOTE_ADDR", "")
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    chain = forwarded + [request.META.get("REMOTE_ADDR", "")]
    return chain[-proxies - 1] if len(chain) > proxies else chain[0]


@require_safe
@staff_member_required
def diagram(request, tree):
    live = tree_or_404(tree)
    stats = {s.node: s.reached for s in ResultStat.objects.filter(tree=tree)}
    votes = {}
    for row in Feedback.objects.filter(tree=tree).values("node", "helpful").annotate(n=Count("pk")):
        votes.setdefault(row["node"], {"yes": 0, "no": 0})["yes" if row["helpful"] else "no"] = row["n"]
    context = {
        "live": live,
        "lang": get_language(),
        "outline": tree_diagram.outline(live.tree),
        "stats": stats,
        "votes": votes,
    }
    return render(request, "wizard/diagram.html", context)
