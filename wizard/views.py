import dataclasses
import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from kb import shared
from kb.caching import revalidated
from wizard import pages, trees
from wizard.models import Feedback, ResultStat

MAX_ANSWERS_PARAM = 2000
PASTE_LIMIT = 200_000
VISITOR_COOKIE = "kb_visitor"
VOTES_PER_WINDOW = 20
VOTE_WINDOW_SECONDS = 600


def tree_or_404(slug):
    try:
        return pages.live_tree(slug)
    except pages.TreeNotFound:
        raise Http404("no such troubleshooting tree") from None


def answers_from(request):
    raw = request.GET.get("a", "")
    if len(raw) > MAX_ANSWERS_PARAM:
        return None
    return trees.parse_answers(raw)


def start(request):
    """The wizard's front door: every tree's first question, and the paste box."""
    live = pages.live_trees()
    paste = request.GET.get("paste", "")[:PASTE_LIMIT]
    if paste:
        return paste_result(request, live, paste)
    return render(request, "wizard/start.html", {"trees": live, "paste": ""})


@require_POST
def paste(request):
    text = request.POST.get("text", "")[:PASTE_LIMIT]
    return paste_result(request, pages.live_trees(), text)


def paste_result(request, live_trees, text):
    incidents = pages.incidents()
    for live in live_trees:
        found = trees.match_signature(live.tree, text)
        if found:
            node_id, _signature = found
            answers = trees.path_to(live.tree, node_id, incidents)
            if answers is not None:
                return redirect(destination(live, answers, incidents))
    return render(request, "wizard/start.html", {"trees": live_trees, "paste": text, "unknown_paste": True})


def destination(live, answers, incidents):
    walk = trees.walk(live.tree, answers, incidents)
    if walk.finished:
        return pages.result_url(live, walk.node.id, walk.answers, timezone.localdate())
    return pages.step_url(live.tree.slug, walk.answers)


@vary_on_headers("HX-Request")
@revalidated
def step(request, tree):
    live = tree_or_404(tree)
    answers = answers_from(request)
    incidents = pages.incidents()
    walk = trees.walk(live.tree, answers or [], incidents)
    problem = walk.problem if answers is not None else _("The link is too long to be a path through this tree.")
    if walk.finished:
        return redirect(pages.result_url(live, walk.node.id, walk.answers, timezone.localdate()))
    return render_step(request, live, walk, problem)


def render_step(request, live, walk, problem=""):
    lang = get_language()
    context = {
        "live": live,
        "walk": walk,
        "node": walk.node,
        "lang": lang,
        "problem": problem,
        "history": pages.answered_steps(walk, lang, live.tree.slug),
        "choices": [
            {"answer": a, "url": pages.step_url(live.tree.slug, [*walk.answers, a.id])} for a in walk.node.answers
        ],
        "unknown_url": pages.step_url(live.tree.slug, [*walk.answers, trees.UNKNOWN]),
        "back_url": pages.step_url(live.tree.slug, walk.answers[:-1]) if walk.steps else None,
        "progress": len(walk.steps) + 1,
    }
    if walk.node.kind == "result":  # a walk that stopped on a result because of a bad answer
        return redirect(pages.result_url(live, walk.node.id, walk.answers))
    template = "wizard/step.html#step" if request.htmx else "wizard/step.html"
    return render(request, template, context)


def when(request, tree):
    """The "when did it start?" form posts a local date and time; it becomes a UTC answer."""
    live = tree_or_404(tree)
    answers = answers_from(request) or []
    moment = parse_local_moment(request.GET.get("date", ""), request.GET.get("time", ""), request.GET.get("tz", "jst"))
    if moment is None:
        walk = trees.walk(live.tree, answers, pages.incidents())
        return render_step(request, live, walk, _("Enter a date (and a time if you know it)."))
    return redirect(pages.step_url(live.tree.slug, [*answers, trees.format_moment(moment)]))


def parse_local_moment(date_text, time_text, zone):
    offset = dt.timedelta(hours=9) if zone == "jst" else dt.timedelta(0)
    try:
        day = dt.date.fromisoformat(date_text.strip()[:10])
        clock = dt.time.fromisoformat(time_text.strip()[:5]) if time_text.strip() else dt.time(12, 0)
    except ValueError:
        return None
    return dt.datetime.combine(day, clock, tzinfo=dt.timezone(offset)).astimezone(dt.UTC)


@vary_on_headers("HX-Request")
def result(request, tree, node):
    live = tree_or_404(tree)
    answers = answers_from(request)
    incidents = pages.incidents()
    walk = trees.walk(live.tree, answers or [], incidents)
    recorded = recorded_tree(live, request.GET.get("r"))
    notices = []
    if recorded is not live and recorded is not None:
        old_walk = trees.walk(recorded.tree, answers or [], incidents)
        if old_walk.finished and old_walk.node.id == node and (not walk.finished or walk.node.id != node):
            notices.append(
                _(
                    "The troubleshooting tree changed since this link was made. This is the result as it was then; the current tree leads elsewhere."
                )
            )
            live, walk = recorded, old_walk
        elif walk.finished and walk.node.id == node:
            notices.append(
                _("The troubleshooting tree was updated since this link was made; this result is still the same.")
            )
    if not walk.finished or walk.node.id != node:
        problem = walk.problem or _("These answers do not lead to this result. Here is the furthest step they reach.")
        if walk.finished:
            return redirect(pages.result_url(live, walk.node.id, walk.answers))
        return render_step(request, live, walk, problem)
    return render_result(request, live, walk, notices)


def recorded_tree(live, number):
    try:
        number = int(number)
    except (TypeError, ValueError):
        return live
    if number == live.revision.number:
        return live
    return pages.tree_at(live.tree.slug, number)


def render_result(request, live, walk, notices):
    lang = get_language()
    node = walk.node
    made_on = parse_date(request.GET.get("at"))
    links = pages.article_links(node.articles, lang, since=made_on)
    if any(link.updated_since for link in links):
        notices.append(_("An article this result cites was updated since this link was made."))
    rcas = pages.article_links([{"slug": slug} for slug in rca_slugs(walk)], lang)
    permalink = request.build_absolute_uri(
        pages.result_url(live, node.id, walk.answers, made_on or timezone.localdate())
    )
    absolute = [dataclasses.replace(link, url=request.build_absolute_uri(link.url)) for link in links]
    if not request.htmx:
        count_reached(live.tree.slug, node.id)
    context = {
        "live": live,
        "walk": walk,
        "node": node,
        "lang": lang,
        "links": links,
        "rcas": rcas,
        "notices": notices,
        "history": pages.answered_steps(walk, lang, live.tree.slug),
        "permalink": permalink,
        "summary": pages.ticket_summary(live, walk, lang, absolute, permalink),
        "incident": next((step.incident for step in walk.steps if step.incident), ""),
        "votes": vote_counts(live.tree.slug, node.id),
        "voted": request.GET.get("voted"),
        "back_url": pages.step_url(live.tree.slug, walk.answers[:-1]),
    }
    template = "wizard/result.html#result" if request.htmx else "wizard/result.html"
    response = render(request, template, context)
    if request.htmx:  # the step that led here was redirected: show the result's own URL
        response["HX-Push-Url"] = request.get_full_path()
    return response


def count_reached(tree, node):
    """One UPDATE in the usual case; the row is created the first time a result is reached."""
    if not ResultStat.objects.filter(tree=tree, node=node).update(reached=F("reached") + 1):
        try:
            with transaction.atomic():
                ResultStat.objects.create(tree=tree, node=node, reached=1)
        except IntegrityError:  # created meanwhile by another request
            ResultStat.objects.filter(tree=tree, node=node).update(reached=F("reached") + 1)


def rca_slugs(walk):
    slugs = list(walk.node.rcas)
    slugs += [step.incident for step in walk.steps if step.incident and step.incident not in slugs]
    return slugs


def parse_date(text):
    try:
        return dt.date.fromisoformat((text or "")[:10])
    except ValueError:
        return None


def vote_counts(tree, node):
    return Feedback.objects.filter(tree=tree, node=node).aggregate(
        yes=Count("pk", filter=Q(helpful=True)), no=Count("pk", filter=Q(helpful=False))
    )


@require_POST
def feedback(request, tree, node):
    live = tree_or_404(tree)
    if node not in live.tree.nodes or live.tree.nodes[node].kind != "result":
        raise Http404("no such result")
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = pages.result_url(live, node, [])
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


def visitor_id(request):
    try:
        return request.get_signed_cookie(VISITOR_COOKIE, salt="kb.visitor")
    except (KeyError, signing.BadSignature):
        return secrets.token_hex(16)


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


@staff_member_required
def diagram(request, tree):
    live = tree_or_404(tree)
    stats = {s.node: s.reached for s in ResultStat.objects.filter(tree=tree)}
    votes = {}
    for row in Feedback.objects.filter(tree=tree).values("node", "helpful").annotate(n=Count("pk")):
        votes.setdefault(row["node"], {"yes": 0, "no": 0})["yes" if row["helpful"] else "no"] = row["n"]
    return render(
        request,
        "wizard/diagram.html",
        {
            "live": live,
            "lang": get_language(),
            "outline": pages.outline(live.tree),
            "stats": stats,
            "votes": votes,
        },
    )
