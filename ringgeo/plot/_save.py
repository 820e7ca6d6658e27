"""Deterministic files of figures and web maps, and figures shown with alt text.

:func:`save` writes PNG, SVG or PDF files whose bytes are the same every time
(and web maps as HTML with stable element ids); :func:`show` displays a figure
in a notebook with its alt text.
"""


from __future__ import annotations

import base64
import io
import os
import pathlib
import struct
import tempfile
from html import escape

import matplotlib
import matplotlib.figure
import matplotlib.pyplot as plt
import PIL.Image
import PIL.PngImagePlugin

from ..exceptions import ParameterError
from ..params import validate_dpi
from ._figure import (
    DPI,
    alt_text,
)

__all__ = ["save", "show", "saved_png"]


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


#: zlib level of the PNG files. An opaque map stored as RGB at level 4 is about 7 %
#: smaller than matplotlib's RGBA at its level 6, and compressed in two thirds of the time.
PNG_COMPRESS_LEVEL = 4


def _write_png(fig, target, dpi, metadata: dict) -> None:
    """Write ``fig`` as a PNG at ``dpi``: RGB when every pixel is opaque (a figure's are).

    matplotlib always writes RGBA. Drawn by the same ``savefig`` (as raw RGBA pixels),
    an opaque figure loses nothing as RGB, and its file is about a tenth smaller and
    quicker to compress. ``metadata``: PNG text chunks (None values are left out).
    """
    raw = io.BytesIO()
    fig.savefig(raw, format="rgba", dpi=dpi)
    pixels = raw.getbuffer()
    # the size of matplotlib's canvas at this dpi (RendererAgg truncates width x dpi)
    width, height = int(fig.get_figwidth() * dpi), int(fig.get_figheight() * dpi)
    if width * height * 4 != len(pixels):  # not the canvas expected: matplotlib's own PNG
        fig.savefig(target, format="png", dpi=dpi, metadata=metadata)
        return
    image = PIL.Image.frombuffer("RGBA", (width, height), pixels, "raw", "RGBA", 0, 1)
    if image.getextrema()[3] == (255, 255):
        image = image.convert("RGB")
    info = PIL.PngImagePlugin.PngInfo()
    for key, value in metadata.items():
        if value is not None:
            info.add_text(key, value)
    image.save(target, format="png", pnginfo=info, dpi=(dpi, dpi),
               compress_level=PNG_COMPRESS_LEVEL)


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

        from ._explore import stable_ids  # a web map: folium is loaded
        from ._webmap import rendering

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
            if suffix == ".png":
                _write_png(fig, tmp, dpi, metadata)
            else:
                fig.savefig(tmp, format=suffix[1:], dpi=dpi, metadata=metadata)
        if suffix == ".svg" and (title or description):
            _svg_title(tmp, title, description)
    written = _write_atomic(path, write)
    if suffix == ".png":  # what show() displays, as long as the figure does not change
        fig._ringgeo_png = (written, dpi)
        # saving drew every artist (each is now up to date); only the figure's dpi was set
        # back, which marks it stale: clear that, so a later change (which marks it stale
        # again) is what tells show() that the file no longer shows the figure
        fig.stale = False
    return written


class _AltImage:
    """A PNG that notebooks show with its alt text, at its size in inches (``dpi``)."""

    def __init__(self, png: bytes, alt: str, dpi: float = 100):
        self.png, self.alt, self.dpi = png, alt, dpi

    def _width(self) -> int:
        """Display width in CSS pixels: the image's width in inches at 100 pixels an inch."""
        pixels = struct.unpack(">I", self.png[16:20])[0]  # the IHDR chunk's width
        return max(1, round(pixels * 100 / self.dpi))

    def _repr_mimebundle_(self, include=None, exclude=None):
        # One copy of the image: an <img> with its alt text (JupyterLab, Notebook, VS Code,
        # nbconvert and GitHub show text/html before image/png, which would only repeat the
        # bytes: a county map's notebook would weigh twice its 1 MB PNG); the alt text alone
        # for plain-text front ends
        data = base64.b64encode(self.png).decode("ascii")
        return {"text/html": f'<img src="data:image/png;base64,{data}" alt="{escape(self.alt)}"'
                             f' width="{self._width()}" style="max-width:100%">',
                "text/plain": self.alt}


def saved_png(fig) -> pathlib.Path | None:
    """Return the PNG file ``fig`` was last saved to, if the figure has not changed since.

    :func:`save` records the file; any change to the figure afterwards makes
    matplotlib mark it stale, and the file no longer shows it.
    """
    saved = getattr(fig, "_ringgeo_png", None)
    if saved is None or fig.stale or not saved[0].is_file():
        return None
    return saved[0]


def show(fig, *, dpi=100, close=True):
    """Display a figure in a notebook as an image with its alt text, drawn once.

    A figure saved to PNG by :func:`save` (and not changed since) is shown as
    that file's bytes: the notebook shows exactly the published pixels and the
    figure is not drawn a second time. Any other figure is drawn once at ``dpi``.
    A path to a PNG file written by :func:`save` is shown as it is.

    Parameters
    ----------
    fig : matplotlib.figure.Figure or path-like
    dpi : int, default 100
        Resolution of a figure that was not saved to PNG.
    close : bool, default True
        Close the figure, so the notebook's inline backend does not draw it again
        (without alt text).

    Returns
    -------
    object
        Shown by Jupyter as ``<img alt="...">`` (its plain-text form is the alt text),
        at the figure's size in inches at 100 pixels an inch.

    Examples
    --------
    >>> import pandas as pd
    >>> from ringgeo.plot import choropleth
    >>> frame = pd.DataFrame({"partners": {"CA": 120, "TX": 80}})
    >>> fig, ax = choropleth(frame, "partners", title="Partners")
    >>> show(fig)._repr_mimebundle_()["text/plain"][:31]
    'Ring partner agencies by state,'
    """
    if not isinstance(fig, matplotlib.figure.Figure):
        path = pathlib.Path(fig)
        if path.suffix.lower() != ".png":
            raise ParameterError(f"show() displays figures and PNG files, not {path.name!r}.")
        with PIL.Image.open(path) as image:
            text, dpi_read = dict(image.text), image.info.get("dpi", (DPI, DPI))[0]
        return _AltImage(path.read_bytes(), text.get("Description") or text.get("Title", ""),
                         round(dpi_read) or DPI)
    title, description = alt_text(fig)
    saved = saved_png(fig)
    if saved is not None:
        png, dpi = saved.read_bytes(), fig._ringgeo_png[1]
    else:
        buffer = io.BytesIO()
        _write_png(fig, buffer, dpi, {"Software": None})
        png = buffer.getvalue()
    if close:
        plt.close(fig)
    return _AltImage(png, description or title, dpi)
