"""A page of another origin cannot make a visitor's browser queue work on their Pose Studio, in a
real browser (Debian's chromium through Playwright): the forged form posts and no-cors fetches a
hostile page makes carry ``Sec-Fetch-Site``/``Origin``, and the app refuses them; its own upload
page still uploads, with and without JavaScript.

The hostile page is served from a second origin on this machine: another port of 127.0.0.1
(chromium says ``same-site``) and ``localhost`` (``cross-site``). It fetches a real video from
its own origin and submits it as a multipart form, as an attacker's page would.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pytest
from flask import Flask, Response, request

from app import create_app
from jobs import JobStore
from web_helpers import LiveServer, chromium, make_settings

pytestmark = pytest.mark.browser
CLIP = "mmpose_demo.mp4"  # 200 KB

# Auto-submits the video as the form field ``video`` to the target (a form post, which navigates,
# or a no-cors fetch, which a page may send anywhere without asking), then says it is done.
HOSTILE_PAGE = """<!doctype html><title>cute cats</title>
<form id="f" method="post" enctype="multipart/form-data">
  <input type="file" name="video" id="v"><input name="net_height" value="256">
</form>
<script>
(async () => {
  const target = %s, how = %s;
  const blob = await (await fetch("/clip.mp4")).blob();
  const file = new File([blob], "cats.mp4", {type: "video/mp4"});
  if (how === "fetch") {
    const body = new FormData();
    body.append("video", file);
    await fetch(target, {method: "POST", mode: "no-cors", body}).catch(() => null);
    document.title = "sent";
    return;
  }
  const files = new DataTransfer();
  files.items.add(file);
  document.getElementById("v").files = files.files;
  const form = document.getElementById("f");
  form.action = target;
  form.submit();
})();
</script>"""


def hostile_site(video: Path) -> Flask:
    site = Flask("hostile")

    @site.get("/")
    def page() -> Response:
        target, how = request.args["target"], request.args.get("how", "form")
        return Response(HOSTILE_PAGE % (json.dumps(target), json.dumps(how)), mimetype="text/html")

    @site.get("/clip.mp4")
    def clip() -> Response:
        return Response(video.read_bytes(), mimetype="video/mp4")

    return site


@pytest.fixture(scope="module")
def sites(tmp_path_factory, videos_dir: Path) -> Iterator[tuple[str, str, JobStore, list]]:
    """(the app's URL, the hostile site's URL on another port, the app's job store, and the
    (path, Sec-Fetch-Site) of every POST the app received)."""
    root = tmp_path_factory.mktemp("cross-site")
    app = create_app({"SETTINGS": make_settings(root, max_upload_bytes=8 * 1024**2)})
    seen: list[tuple[str, str | None]] = []
    inner = app.wsgi_app

    def recording(environ, start_response):  # noqa: ANN001 - WSGI
        if environ["REQUEST_METHOD"] == "POST":
            seen.append((environ["PATH_INFO"], environ.get("HTTP_SEC_FETCH_SITE")))
        return inner(environ, start_response)

    app.wsgi_app = recording
    with LiveServer(app) as ours, LiveServer(hostile_site(videos_dir / CLIP)) as theirs:
        yield ours.url, theirs.url, app.extensions["posestudio"].store, seen


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.mark.parametrize(("host", "fetch_site"), [("127.0.0.1", "same-site"), ("localhost", "cross-site")])
@pytest.mark.parametrize(("path", "how"), [("/api/jobs", "form"), ("/", "form"), ("/api/jobs", "fetch")])
def test_a_page_of_another_origin_cannot_create_a_job(sites, browser, host: str, fetch_site: str,
                                                      path: str, how: str) -> None:
    ours, theirs, store, seen = sites
    before = len(store.list_jobs())
    target = ours + path
    context = browser.new_context()
    page = context.new_page()
    attack = f"{theirs.replace('127.0.0.1', host)}/?target={target}&how={how}"
    with page.expect_response(lambda r: r.url == target and r.request.method == "POST") as answer:
        page.goto(attack)
    assert answer.value.status == 403
    assert seen[-1] == (path, fetch_site)  # what chromium said, as the app received it
    if how == "form":
        page.wait_for_url(target)
        assert "another site" in page.inner_text("body")
    else:
        page.wait_for_function("document.title === 'sent'")
    context.close()
    assert len(store.list_jobs()) == before


def test_the_apps_own_page_still_uploads(sites, browser, videos_dir: Path) -> None:
    ours, _, store, seen = sites
    before = len(store.list_jobs())
    for javascript, path in ((True, "/api/jobs"), (False, "/")):  # the XHR upload; the plain form
        context = browser.new_context(java_script_enabled=javascript)
        page = context.new_page()
        page.goto(ours + "/")
        page.set_input_files("#video-input", str(videos_dir / CLIP))
        with page.expect_navigation(url=f"{ours}/jobs/*"):
            page.click("#upload-button")
        context.close()
        assert seen[-1] == (path, "same-origin")
    assert len(store.list_jobs()) == before + 2
