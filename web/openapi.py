"""The API contract: ``/api/openapi.json`` (``web.openapi_spec``) and ``/api/docs``, the same
document as a page rendered here on the server: no script, nothing fetched from elsewhere."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from flask import Blueprint, Response, jsonify, render_template

from web.openapi_spec import openapi_document

bp = Blueprint("openapi", __name__, url_prefix="/api")
METHODS = ("get", "post", "put", "patch", "delete")


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    return openapi_document()


@bp.get("/openapi.json")
def spec() -> Response:
    return jsonify(document())


def _ref_name(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref", "")
    return ref.rsplit("/", 1)[-1] if ref else None


@bp.get("/docs")
def docs() -> str:
    doc = document()
    operations = []
    for path, item in doc["paths"].items():
        shared = item.get("parameters", [])
        for method in METHODS:
            if method in item:
                op = item[method]
                operations.append({"path": path, "method": method.upper(), "op": op,
                                   "parameters": shared + op.get("parameters", [])})
    return render_template("api_docs.html", doc=doc, operations=operations, ref_name=_ref_name)
