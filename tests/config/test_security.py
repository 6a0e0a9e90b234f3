"""What the site gives attackers: nothing that runs, headers that forbid the rest."""

import os
import re
import subprocess
import sys
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import User

from kb.models import Revision
from tests.conftest import CONTENT, REPO, article_file, make_article, run

PAYLOADS = [
    line
    for line in (REPO / "tests" / "data" / "xss-payloads.txt").read_text(encoding="utf-8").splitlines()
    if line and not line.startswith("#")
]
SAFE_SCHEMES = {"http", "https", "mailto"}


def unsafe_url(value):
    """A URL whose scheme is not http(s)/mailto, read as browsers do (WHATWG URL: tabs and
    newlines removed anywhere, C0 controls and spaces stripped at the ends)."""
    normalized = re.sub(r"[\t\n\r]", "", value).strip("".join(map(chr, range(0x21)))).lower()
    scheme = re.match(r"^([a-z][a-z0-9+.-]*):", normalized)
    return bool(scheme) and scheme.group(1) not in SAFE_SCHEMES and value != "data:,"


class Elements(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def dangerous(html):
    """Every element or attribute in the page a browser could run."""
    parser = Elements()
    parser.feed(html)
    problems = []
    for tag, attrs in parser.found:
        if tag in {"iframe", "object", "embed", "base", "meta", "link", "svg", "math", "style", "bgsound"} and not (
            tag == "meta"
            and set(attrs) <= {"charset", "name", "content"}
            or tag == "link"
            and attrs.get("rel") in {"stylesheet", "icon", "canonical", "alternate"}
        ):
            problems.append(f"<{tag}>")
        if tag == "script" and not (attrs.get("src", "").startswith("/static/") and len(attrs) <= 2):
            problems.append(f"<script {attrs}>")
        for name, value in attrs.items():
            if name.startswith("on") or name == "style":
                problems.append(f"<{tag} {name}>")
            if name in {"href", "src", "action", "background", "dynsrc", "data", "formaction"} and unsafe_url(
                value or ""
            ):
                problems.append(f"<{tag} {name}={value!r}>")
    return problems


@pytest.mark.django_db
class TestXssPayloads:
    @pytest.fixture
    def hostile(self, content_dir):
        body = "\n\n".join(f"Payload {n}: {payload}" for n, payload in enumerate(PAYLOADS))
        article_file(
            content_dir, "xss", "ja", title='"<script>alert(1)</script> XSS 記事"', body=body, tags="['<b>tag</b>']"
        )
        english = article_file(
            content_dir, "xss", "en", title="<img src=x onerror=alert(1)>", body=body, translated_from="ja"
        )
        assert run(content_dir).ok
        english.write_text(english.read_text(encoding="utf-8").replace("Payload 0", "Payload zero"), encoding="utf-8")
        assert run(content_dir).ok
        return content_dir

    @pytest.mark.parametrize(
        "url",
        [
            "/ja/articles/xss/",
            "/en/articles/xss/",
            "/ja/articles/xss/ja/history/",
            "/en/articles/xss/en/r1/",
            "/en/articles/xss/en/diff/?from=1&to=2",
            "/ja/articles/",
            "/ja/articles/?tag=%3Cb%3Etag%3C/b%3E",
            "/ja/search/?q=Payload",
            "/en/search/?q=javascript",
            "/en/search/?q=onerror",
            "/en/search/?q=%3Cscript%3Ealert(1)%3C/script%3E",
            "/ja/wizard/?paste=%3Cscript%3Ealert(1)%3C/script%3E",
        ],
    )
    def test_no_page_that_shows_the_article_contains_anything_that_runs(self, hostile, client, url):
        response = client.get(url)
        assert response.status_code == 200
        assert dangerous(response.content.decode()) == []

    def test_the_payloads_are_shown_as_text(self, hostile, client):
        body = client.get("/ja/articles/xss/").content.decode()
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
        assert Revision.objects.filter(article__slug="xss").count() == 3

    def test_the_api_returns_escaped_snippets(self, hostile, client):
        for result in client.get("/api/search", {"q": "Payload onerror"}).json()["results"]:
            assert dangerous(result["snippet"]) == [] and "<img" not in result["snippet"].lower()


@pytest.mark.usefixtures("seeds")
class TestHeaders:
    def test_security_headers_on_every_page(self, client):
        for url in (
            "/ja/",
            "/en/articles/vmagent-notready/",
            "/en/search/?q=VM",
            "/en/wizard/vm-troubleshooting/",
            "/api/search?q=vm",
        ):
            response = client.get(url)
            csp = response["Content-Security-Policy"]
            assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp and "frame-ancestors 'none'" in csp
            assert response["X-Content-Type-Options"] == "nosniff"
            assert response["Referrer-Policy"] == "same-origin"
            assert response["X-Frame-Options"] == "DENY"
            assert response["Permissions-Policy"] == "camera=(), microphone=(), geolocation=()"
            assert response["Cross-Origin-Opener-Policy"] == "same-origin"

    @pytest.mark.parametrize(
        "url",
        [
            "/ja/",
            "/en/articles/vmagent-notready/",
            "/ja/search/?q=更新中",
            "/en/wizard/vm-troubleshooting/?a=management-ops,windows",
            "/en/wizard/vm-troubleshooting/result/result-agent-stopped/?a=agent-not-ready,can-connect,stopped&r=1",
            "/ja/wizard/",
        ],
    )
    def test_no_inline_script_or_style_so_the_csp_holds(self, client, url):
        assert dangerous(client.get(url).content.decode()) == []

    def test_a_repeat_visit_costs_a_304(self, client):
        first = client.get("/en/articles/vmagent-notready/")
        assert "no-cache" in first["Cache-Control"]
        again = client.get("/en/articles/vmagent-notready/", headers={"if-none-match": first["ETag"]})
        assert again.status_code == 304
        other_language = client.get("/ja/articles/vmagent-notready/", headers={"if-none-match": first["ETag"]})
        assert other_language.status_code == 200

    def test_an_import_changes_the_etag(self, client, tmp_path):
        first = client.get("/en/articles/vmagent-notready/")
        from kb.caching import forget_content_version
        from kb.models import ImportRun

        ImportRun.objects.create(changed_slugs=["vmagent-notready"])
        forget_content_version()  # what a second later does by itself
        assert client.get("/en/articles/vmagent-notready/", headers={"if-none-match": first["ETag"]}).status_code == 200


def production_env(**extra):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_HTTPS": "1",
        "DJANGO_SECRET_KEY": "k" * 20 + "-production-like-secret-that-is-long-and-random-3f9a8b7c6d5e",
        "DJANGO_ALLOWED_HOSTS": "kb.example.com",
    }
    env.update(extra)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for the browser tests, never in production
    return env


def test_check_deploy_reports_nothing_in_production_configuration():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    env = production_env()
    env.pop("DJANGO_SECRET_KEY")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0 and "DJANGO_SECRET_KEY must be set" in result.stderr


@pytest.mark.django_db
def test_admin_and_editor_pages_are_for_staff_only(client):
    for url in ("/admin/", "/en/editor/", "/ja/wizard/vm-troubleshooting/diagram/"):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_shipped_content_is_clean(db):
    assert run(CONTENT).ok
    for revision in Revision.objects.all():
        assert dangerous(revision.html) == [], revision


@pytest.mark.django_db
def test_migrations_match_the_models_on_this_database():
    from django.core.management import call_command

    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def one_row_of(model_label, **fields):
    from django.apps import apps

    return lambda: apps.get_model(model_label).objects.create(**fields)


# One row of each model the admin shows read-only, made here: the checks below never depend
# on whether some other part of the suite happened to leave a row.
ONE_ROW = {
    "wizard/feedback": one_row_of("wizard.Feedback", tree="t", node="n", visitor="v", helpful=True),
    "wizard/resultstat": one_row_of("wizard.ResultStat", tree="t", node="n", reached=1),
    "wizard/treerevision": one_row_of(
        "wizard.TreeRevision", slug="t", number=99, is_current=False, data={}, data_hash="h", source_path="t.yaml"
    ),
    "kb/importrun": one_row_of("kb.ImportRun", changed_slugs=["x"]),
    "kb/revision": lambda: make_article("admin-row").revisions.get(),
    "kb/glossary": one_row_of(
        "kb.Glossary", number=99, is_current=False, entries=[], data_hash="h", source_path="glossary.yaml"
    ),
}


@pytest.mark.usefixtures("seeds")
class TestReview:
    """What a review of the code found, each with the test that failed before the fix."""

    @pytest.mark.parametrize(
        "target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "\\\\evil.example"]
    )
    def test_the_feedback_form_never_redirects_to_another_site(self, client, target):
        url = "/en/wizard/vm-troubleshooting/result/result-agent-stopped/feedback/"
        response = client.post(url, {"helpful": "yes", "next": target})
        assert response.status_code == 302 and response["Location"].startswith("/en/wizard/vm-troubleshooting/")

    def test_a_local_next_is_kept(self, client):
        url = "/en/wizard/vm-troubleshooting/result/result-agent-stopped/feedback/"
        response = client.post(url, {"helpful": "yes", "next": "/en/articles/"})
        assert response["Location"] == "/en/articles/?voted=1"

    @pytest.mark.parametrize(
        "model",
        ["wizard/feedback", "wizard/resultstat", "wizard/treerevision", "kb/importrun", "kb/revision", "kb/glossary"],
    )
    def test_the_admin_changes_nothing(self, client, model):
        client.force_login(User.objects.create_superuser("admin", "a@example.com", "pw"))
        assert client.get(f"/admin/{model}/add/").status_code == 403
        instance = ONE_ROW[model]()
        assert client.post(f"/admin/{model}/{instance.pk}/delete/", {"post": "yes"}).status_code == 403
        assert client.post(f"/admin/{model}/{instance.pk}/change/", {}).status_code == 403
        assert type(instance).objects.filter(pk=instance.pk).exists()

    def test_the_visitor_cookie_is_secure_under_https(self, client, settings):
        settings.HTTPS = True
        response = client.post(
            "/en/wizard/vm-troubleshooting/result/result-agent-stopped/feedback/",
            {"helpful": "yes", "next": "/en/"},
        )
        assert response.cookies["kb_visitor"]["secure"] is True


def test_every_cookie_is_secure_when_the_site_runs_behind_https():
    script = (
        "import config.settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS > 0)"
    )
    env = {**os.environ, "DJANGO_HTTPS": "1", "DJANGO_SECRET_KEY": "x"}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True", "True", "True"]


def png_bytes():
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


@pytest.mark.django_db
class TestArticleFiles:
    """Only images a current, visible article shows, from where its import found them."""

    @pytest.fixture
    def imported(self, content_dir, tmp_path):
        article_file(content_dir, "pictured", "ja", title="図", body="![構成図](./diagram.png)\n\n![svg](./vector.svg)")
        (content_dir / "articles" / "pictured" / "diagram.png").write_bytes(png_bytes())
        (content_dir / "articles" / "pictured" / "vector.svg").write_text("<svg onload=alert(1)></svg>")
        blog = tmp_path / "blog"
        post = blog / "vm" / "hexo-post.md"
        post.parent.mkdir(parents=True)
        post.write_text(
            "---\ntitle: ブログ\n---\n設定画面は次のとおりです。\n\n![画面](screen.png)\n", encoding="utf-8"
        )
        (blog / "vm" / "hexo-post").mkdir()
        (blog / "vm" / "hexo-post" / "screen.png").write_bytes(png_bytes())  # Hexo's post asset folder
        assert run(content_dir).ok and run(blog).ok
        return content_dir

    def test_an_image_beside_the_article_is_served_as_an_image(self, client, imported):
        page = client.get("/ja/articles/pictured/").content.decode()
        assert '<img alt="構成図" loading="lazy" src="/ja/articles/pictured/files/diagram.png">' in page
        response = client.get("/ja/articles/pictured/files/diagram.png")
        assert response.status_code == 200 and response["Content-Type"] == "image/png"
        assert response.content == png_bytes()

    def test_an_image_of_a_blog_post_is_served_from_its_asset_folder(self, client, imported):
        page = client.get("/ja/articles/hexo-post/").content.decode()
        assert 'src="/ja/articles/hexo-post/files/hexo-post/screen.png"' in page
        assert client.get("/ja/articles/hexo-post/files/hexo-post/screen.png").status_code == 200

    @pytest.mark.parametrize(
        "url",
        [
            "/ja/articles/../files/staleness.yaml",
            "/ja/articles/%2E%2E/files/staleness.yaml",
            "/ja/articles/pictured/files/ja.md",
            "/ja/articles/pictured/files/../../staleness.yaml",
            "/ja/articles/pictured/files/vector.svg",
            "/ja/articles/pictured/files/nothing.png",
        ],
    )
    def test_nothing_else_is_served(self, client, imported, url):
        assert client.get(url).status_code == 404

    def test_a_withdrawn_article_serves_no_image(self, client, imported):
        (imported / "articles" / "pictured" / "ja.md").unlink()
        assert run(imported).ok
        assert client.get("/ja/articles/pictured/files/diagram.png").status_code == 404


@pytest.mark.django_db
class TestSanitising:
    def test_only_the_classes_the_renderer_emits_survive(self, content_dir, client):
        body = (
            '<span class="notice notice-warning">偽の通知</span>\n\n'
            "> [!notice-warning]\n> 偽の警告\n\n"
            "> [!WARNING]\n> 本物の警告\n\n"
            "```python\nprint(1)\n```\n"
        )
        article_file(content_dir, "classes", "ja", title="クラス", body=body)
        assert run(content_dir).ok
        html = Revision.objects.get(article__slug="classes").html
        classes = set(" ".join(re.findall(r'class="([^"]*)"', html)).split())
        assert "notice" not in classes and "notice-warning" not in classes
        assert {"admonition", "warning", "highlight", "admonition-title"} <= classes

    def test_a_heading_never_takes_an_id_the_page_uses(self, content_dir, client):
        article_file(
            content_dir, "ids", "en", title="Ids", body="## Main\n\ntext\n\n## Wizard step\n\n## Ticket\n\n## Other"
        )
        assert run(content_dir).ok
        revision = Revision.objects.get(article__slug="ids")
        assert [h["id"] for h in revision.headings] == [
            "main-section",
            "wizard-step-section",
            "ticket-section",
            "other",
        ]
        page = client.get("/en/articles/ids/").content.decode()
        assert page.count('id="main"') == 1 and 'id="main-section"' in page

    def test_html_made_by_an_older_renderer_is_rendered_again_at_the_next_import(self, content_dir):
        article_file(content_dir, "old-html", "en", title="Old", body='<span class="notice">kept text</span>')
        assert run(content_dir).ok
        Revision.objects.filter(article__slug="old-html").update(
            html='<p><span class="notice">kept text</span></p>', renderer=0
        )
        report = run(content_dir)
        revision = Revision.objects.get(article__slug="old-html")
        assert revision.renderer > 0 and revision.html == "<p><span>kept text</span></p>"
        assert report.changed_slugs == {"old-html"}  # its search document changes too


@pytest.mark.usefixtures("seeds")
class TestVoteFlood:
    url = "/en/wizard/vm-troubleshooting/result/result-agent-stopped/feedback/"

    def vote(self, forwarded, remote="10.0.0.2"):
        from django.test import Client

        headers = {"X-Forwarded-For": forwarded} if forwarded else {}
        return (
            Client(REMOTE_ADDR=remote).post(self.url, {"helpful": "yes", "next": "/en/"}, headers=headers).status_code
        )

    def test_a_burst_of_200_votes_from_one_client_behind_the_proxy_is_cut_at_the_limit(self, settings):
        from collections import Counter

        from wizard.models import Feedback

        settings.KB_TRUSTED_PROXIES = 1
        # The client may put anything before its own address; the proxy appends what it saw.
        statuses = Counter(self.vote(f"198.51.100.{n % 250}, 203.0.113.7") for n in range(200))
        assert statuses == Counter({302: 20, 429: 180}) and Feedback.objects.count() == 20
        assert self.vote("203.0.113.8") == 302  # another client behind the same proxy

    def test_without_a_trusted_proxy_the_header_is_ignored(self, settings):
        settings.KB_TRUSTED_PROXIES = 0
        statuses = [self.vote(f"203.0.113.{n}") for n in range(21)]
        assert statuses[:20] == [302] * 20 and statuses[20] == 429  # all from the proxy's own address
