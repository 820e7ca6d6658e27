"""The front-end libraries of the web map: linked from a CDN, or copied into the page.

A page made by :func:`ringgeo.plot.explore` needs Leaflet and leaflet.markercluster
(and ringgeo's own script and style, ``webmap.js`` and ``webmap.css``, always
written into the page). By default the page links the two libraries from the
jsDelivr CDN, which serves the npm packages: it needs the network to open. With
``self_contained=True`` their JavaScript and CSS (Leaflet's images as data URIs)
are copied into the page from an npm folder named by ``RINGGEO_WEB_LIBS``, so the
page opens with no network at all; only the map tiles still come from the tile
server. Nothing of the libraries is kept in the repository.
"""

from __future__ import annotations

import base64
import pathlib
import re

from .._config import WEB_LIBS_ENV, env_path
from ..exceptions import ParameterError

__all__ = ["LIBRARIES", "NPM_INSTALL", "cdn_urls", "inline_assets", "own_assets"]

#: npm package -> (version, [JavaScript files], [CSS files]), in load order.
LIBRARIES = {
    "leaflet": ("1.9.3", ["dist/leaflet.js"], ["dist/leaflet.css"]),
    "leaflet.markercluster": ("1.5.3", ["dist/leaflet.markercluster.js"],
                              ["dist/MarkerCluster.css"]),
}
#: The command that installs them (what ``.ci/run`` runs).
NPM_INSTALL = "npm install --prefix \"$RINGGEO_WEB_LIBS\" " + " ".join(
    f"{name}@{version}" for name, (version, _, _) in LIBRARIES.items())
_CDN = "https://cdn.jsdelivr.net/npm/{name}@{version}/{path}"
_HERE = pathlib.Path(__file__).parent


def cdn_urls() -> tuple[list, list]:
    """Return the (name, URL) pairs of the libraries' JavaScript and CSS on jsDelivr.

    Examples
    --------
    >>> js, css = cdn_urls()
    >>> js[0]
    ('leaflet', 'https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js')
    """
    js, css = [], []
    for name, (version, scripts, styles) in LIBRARIES.items():
        js += [(f"{name}:{p}" if i else name, _CDN.format(name=name, version=version, path=p))
               for i, p in enumerate(scripts)]
        css += [(f"{name}_css:{p}" if i else f"{name}_css",
                 _CDN.format(name=name, version=version, path=p))
                for i, p in enumerate(styles)]
    return js, css


def _package_folder(name: str, version: str) -> pathlib.Path:
    import json

    root = env_path(WEB_LIBS_ENV)
    how = (f"Install them with `{NPM_INSTALL}` and set {WEB_LIBS_ENV} to that folder, or "
           "pass self_contained=False (the page then loads them from cdn.jsdelivr.net).")
    if root is None:
        raise ParameterError(f"A self-contained web map copies Leaflet and "
                             f"leaflet.markercluster from npm, but {WEB_LIBS_ENV} is not set. "
                             + how)
    folder = root / "node_modules" / name
    manifest = folder / "package.json"
    if not manifest.is_file():
        raise ParameterError(f"{WEB_LIBS_ENV}={root} has no npm package {name} "
                             f"({manifest} is missing). " + how)
    found = json.loads(manifest.read_text(encoding="utf-8")).get("version")
    if found != version:
        raise ParameterError(f"{WEB_LIBS_ENV}={root} holds {name} {found}, the web map is "
                             f"written for {version}. " + how)
    return folder


def _data_uris(css: str, folder: pathlib.Path) -> str:
    """CSS with each ``url(images/...)`` replaced by the image as a data URI."""
    def inline(match):
        path = (folder / match.group(1)).resolve()
        if not path.is_file():
            return match.group(0)
        kind = {".png": "image/png", ".svg": "image/svg+xml"}.get(path.suffix, "")
        if not kind:
            return match.group(0)
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return f"url(data:{kind};base64,{data})"
    return re.sub(r"url\((?!data:)['\"]?([^'\")]+)['\"]?\)", inline, css)


def inline_assets() -> str:
    """Return the libraries' JavaScript and CSS as ``<script>``/``<style>`` elements.

    Read from the npm folder named by ``RINGGEO_WEB_LIBS``.

    Raises
    ------
    ParameterError
        ``RINGGEO_WEB_LIBS`` is unset, or lacks a package or holds another version;
        the message gives the npm command.
    """
    parts = []
    for name, (version, scripts, styles) in LIBRARIES.items():
        folder = _package_folder(name, version)
        for path in styles:
            file = folder / path
            css = _data_uris(file.read_text(encoding="utf-8"), file.parent)
            parts.append(f"<style>/* {name}@{version}/{path} */\n{css}\n</style>")
        for path in scripts:
            text = (folder / path).read_text(encoding="utf-8").replace("</script", "<\\/script")
            parts.append(f"<script>/* {name}@{version}/{path} */\n{text}\n</script>")
    return "\n".join(parts)


def own_assets() -> str:
    """Return ringgeo's own script and style of the web map (``webmap.js``, ``webmap.css``)."""
    js = (_HERE / "webmap.js").read_text(encoding="utf-8")
    css = (_HERE / "webmap.css").read_text(encoding="utf-8")
    return f"<style>\n{css}</style>\n<script>\n{js}</script>"
