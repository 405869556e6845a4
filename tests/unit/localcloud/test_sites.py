"""Static sites from the distribution's Ninefold::Sites metadata."""

from __future__ import annotations

from pathlib import Path

import pytest

from localcloud.sites import Sites, content_type

pytestmark = pytest.mark.unit


@pytest.fixture
def sites(tmp_path: Path) -> Sites:
    (tmp_path / "www" / "docs").mkdir(parents=True)
    (tmp_path / "www" / "index.html").write_text("www")
    (tmp_path / "www" / "docs" / "index.html").write_text("docs")
    (tmp_path / "www" / "app.css").write_text("css")
    (tmp_path / "console" / "assets").mkdir(parents=True)
    (tmp_path / "console" / "index.html").write_text("console")
    (tmp_path / "console" / "assets" / "main.js").write_text("js")
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "openapi.json").write_text("{}")
    (tmp_path / "secret.txt").write_text("secret")
    metadata = [
        {"path": "/", "source": "www"},
        {"path": "/app/", "source": "console", "spa": True},
        {"path": "/api/openapi.json", "source": "build/openapi.json"},
    ]
    return Sites.from_metadata([("Stack", "Distribution", metadata)], tmp_path)


def test_longest_prefix_wins_and_trailing_slashes_serve_the_index(sites: Sites) -> None:
    assert sites.resolve("/").name == "index.html"  # type: ignore[union-attr]
    assert sites.resolve("/docs/").read_text() == "docs"  # type: ignore[union-attr]
    assert sites.resolve("/app.css").read_text() == "css"  # type: ignore[union-attr]
    assert sites.resolve("/app/").read_text() == "console"  # type: ignore[union-attr]
    assert sites.resolve("/app/assets/main.js").read_text() == "js"  # type: ignore[union-attr]


def test_like_the_edge_function_and_s3_folders_without_a_slash_are_not_found(sites: Sites) -> None:
    assert sites.resolve("/docs") is None
    assert sites.resolve("/app") is None


def test_spa_paths_without_an_extension_get_the_index_and_missing_files_do_not(sites: Sites) -> None:
    assert sites.resolve("/app/workspaces/42").read_text() == "console"  # type: ignore[union-attr]
    assert sites.resolve("/app/assets/missing.js") is None
    assert sites.resolve("/nope.html") is None


def test_file_entries_match_exactly(sites: Sites) -> None:
    assert sites.exact_file("/api/openapi.json") is not None
    assert sites.exact_file("/api/openapi.json/x") is None
    assert sites.resolve("/api/openapi.json").read_text() == "{}"  # type: ignore[union-attr]


def test_paths_cannot_escape_the_site_folder(sites: Sites) -> None:
    assert sites.resolve("/../secret.txt") is None
    assert sites.resolve("/app/../../secret.txt") is None
    assert sites.resolve("/app/../../build/") is not None  # the spa index, not a listing
    assert sites.resolve("/app/../../build/").read_text() == "console"  # type: ignore[union-attr]


def test_content_types() -> None:
    assert content_type(Path("a.js")).startswith("text/javascript")
    assert content_type(Path("a.css")).startswith("text/css")
    assert content_type(Path("a.html")).startswith("text/html")
    assert content_type(Path("a.json")) == "application/json"
    assert content_type(Path("a.svg")) == "image/svg+xml"
    assert content_type(Path("a.unknownext")) == "application/octet-stream"
