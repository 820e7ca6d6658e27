"""Deterministic files of figures and web maps, and figures shown with alt text.

:func:`save` writes PNG, SVG or PDF files whose bytes are the same every time
(and web maps as HTML with stable element ids); :func:`show` displays a figure
in a notebook with its alt text.
"""


from __future__ import annotations

import os
import pathlib
import tempfile

import matplotlib
import matplotlib.figure
import matplotlib.pyplot as plt

from ..exceptions import ParameterError
from ..params import validate_dpi
from ._explore import stable_ids
from ._figure import (
    DPI,
    alt_text,
)
from ._webmap import rendering

__all__ = ["save", "show"]


# --------------------------------------------------------------------------- saving
_FORMATS = {
    ".png": {"Software": None},
    ".svg": {"Date": None, "Creator": None},
    ".pdf": {"Creator": None, "Producer": None, "CreationDate": None, "ModDate": None},
}


def _write_atomic(path: pathlib.Path, write) -> pathlib.Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then move it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    os.close(handle)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _svg_title(tmp: str, title: str, description: str) -> None:
    """Put ``<title>`` and ``<desc>`` first inside the SVG root (what screen readers read)."""
    from xml.sax.saxutils import escape

    text = pathlib.Path(tmp).read_text(encoding="utf-8")
    root = text.index("<svg")
    end = text.index(">", root) + 1
    tags = (f"\n <title>{escape(title)}</title>" if title else "") + \
        (f"\n <desc>{escape(description)}</desc>" if description else "")
    pathlib.Path(tmp).write_text(text[:end] + tags + text[end:], encoding="utf-8")


def save(fig, path, *, dpi=DPI):
    """Write a figure to PNG, SVG or PDF, or a web map to HTML, with the same bytes every time.

    No timestamps or software versions are written, SVG element ids come from a
    fixed salt, and the resolution is fixed. The figure's alt text
    (:func:`alt_text`: the title and the description :func:`choropleth` and
    :func:`timeline` build from the data) goes into the PNG text chunks
    ``Title`` and ``Description``, the SVG ``<title>`` and ``<desc>`` and the
    PDF ``Title`` and ``Subject``. A folium map (:func:`explore`) is written
    to ``.html`` with element ids made stable (:func:`stable_ids`). The file is
    first written to a temporary file in the same folder and then moved into
    place, so an interrupted save never leaves a half-written file. Missing
    folders are created.

    Parameters
    ----------
    fig : matplotlib.figure.Figure or folium.Map
    path : str or path-like
        Ends with ``.png``, ``.svg`` or ``.pdf`` (figures) or ``.html`` (maps).
    dpi : int, default 200
        Resolution of PNG files (10 x 6.5 inches at 200 dpi: 2,000 x 1,300 pixels).

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ParameterError
        Another file extension, a figure and an extension that do not go together, or a
        ``dpi`` outside 30 to 600 (:func:`ringgeo.params.validate_dpi`).

    Examples
    --------
    >>> import tempfile
    >>> fig, ax = plt.subplots(figsize=(2, 2))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     a = save(fig, pathlib.Path(tmp) / "a.png").read_bytes()
    ...     print(a == save(fig, pathlib.Path(tmp) / "figs" / "b.png").read_bytes())
    True
    >>> plt.close(fig)
    """
    dpi = validate_dpi(dpi)
    path = pathlib.Path(path)
    suffix = path.suffix.lower()
    is_map = hasattr(fig, "get_root") and not isinstance(fig, matplotlib.figure.Figure)
    if suffix == ".html" or is_map:
        if not (suffix == ".html" and is_map):
            raise ParameterError(f"Cannot save {path.name!r}: web maps (ringgeo.plot.explore) "
                                 "are saved as .html, figures as "
                                 f"{', '.join(_FORMATS)}.")

        def write_html(tmp):
            stable_ids(fig)
            with rendering(fig):
                text = fig.get_root().render()
            pathlib.Path(tmp).write_text(text, encoding="utf-8")
        return _write_atomic(path, write_html)
    if suffix not in _FORMATS:
        raise ParameterError(f"Cannot save {path.name!r}: the file name must end with "
                             f"{', '.join(_FORMATS)} (or .html for a web map).")
    title, description = alt_text(fig)
    metadata = dict(_FORMATS[suffix])
    if suffix == ".png":
        metadata.update({k: v for k, v in (("Title", title), ("Description", description)) if v})
    elif suffix == ".pdf":
        metadata.update({k: v for k, v in (("Title", title), ("Subject", description)) if v})

    def write(tmp):
        with matplotlib.rc_context({"svg.hashsalt": "ringgeo", "svg.fonttype": "path",
                                    "pdf.compression": 6}):
            fig.savefig(tmp, format=suffix[1:], dpi=dpi, metadata=metadata)
        if suffix == ".svg" and (title or description):
            _svg_title(tmp, title, description)
    return _write_atomic(path, write)


class _AltImage:
    """A PNG of a figure that notebooks show with its alt text."""

    def __init__(self, png: bytes, alt: str):
        self.png, self.alt = png, alt

    def _repr_mimebundle_(self, include=None, exclude=None):
        import base64
        from html import escape

        data = base64.b64encode(self.png).decode("ascii")
        return {"text/html": f'<img src="data:image/png;base64,{data}" alt="{escape(self.alt)}"'
                             f' style="max-width:100%">',
                "image/png": data, "text/plain": self.alt}, {"image/png": {"alt": self.alt}}


def show(fig, *, dpi=100, close=True):
    """Display a figure in a notebook as an image with its alt text.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    dpi : int, default 100
    close : bool, default True
        Close the figure, so the notebook does not also show it without alt text.

    Returns
    -------
    object
        Shown by Jupyter as ``<img alt="...">`` (its plain-text form is the alt text).

    Examples
    --------
    >>> import pandas as pd
    >>> from ringgeo.plot import choropleth
    >>> frame = pd.DataFrame({"partners": {"CA": 120, "TX": 80}})
    >>> fig, ax = choropleth(frame, "partners", title="Partners")
    >>> show(fig)._repr_mimebundle_()[0]["text/plain"][:31]
    'Ring partner agencies by state,'
    """
    import io

    title, description = alt_text(fig)
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "ringgeo"}):
        fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    if close:
        plt.close(fig)
    return _AltImage(buffer.getvalue(), description or title)
