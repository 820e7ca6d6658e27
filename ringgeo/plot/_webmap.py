"""The folium map class of :func:`ringgeo.plot.explore`, rendered with each template compiled once.

folium renders a map by rendering each layer's template to text and wrapping
that text in a new ``branca.element.Element``, which compiles it as a jinja2
template, again each time the map is rendered. A notebook renders it twice,
once to write the page (:func:`ringgeo.plot.save`) and once to show it inline.
When the national web map's 18,000 agency points were folium layers, they were a
4.8 MB template and the second compile took about 1.5 s of the notebook's 5 s;
the page's data are now written as they are, without a template
(:func:`ringgeo.plot.explore`), and this memo serves folium's own templates.

:func:`rendering` keeps, for one map, the code jinja2 compiled for each
template text, and hands it out again when the same text is compiled during
a later render of that map. Compiling is a pure function of the environment
and the text (jinja2's own bytecode cache reuses compiled code the same way),
so the page is the same, byte for byte. :class:`WebMap` (what ``explore``
returns: a ``folium.Map``) renders its inline view that way.
"""

from __future__ import annotations

import contextlib
import re
import threading
import weakref

import folium
import jinja2

__all__ = ["WebMap", "rendering"]

# map -> {(environment, source, name, filename, raw, defer_init): compiled code}
_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LOCK = threading.RLock()


@contextlib.contextmanager
def rendering(web_map):
    """While rendering ``web_map``: each template text is compiled once per map.

    Examples
    --------
    >>> m = folium.Map(tiles=None)
    >>> with rendering(m):
    ...     first = m.get_root().render()
    >>> with rendering(m):
    ...     second = m.get_root().render()
    >>> first == second
    True
    """
    original = jinja2.Environment.compile
    with _LOCK:  # one render at a time patches jinja2
        memo = _COMPILED.setdefault(web_map, {})

        def compile(env, source, name=None, filename=None, raw=False, defer_init=False):
            if not isinstance(source, str):  # a parsed template: compile it as jinja2 does
                return original(env, source, name, filename, raw, defer_init)
            key = (env, source, name, filename, raw, defer_init)
            if key not in memo:
                memo[key] = original(env, source, name, filename, raw, defer_init)
            return memo[key]

        jinja2.Environment.compile = compile
        try:
            yield web_map
        finally:
            jinja2.Environment.compile = original


#: folium's viewport line forbids pinch zoom (``maximum-scale=1.0, user-scalable=no``).
_NO_PINCH = re.compile(r",\s*maximum-scale=1\.0,\s*user-scalable=no")


class WebMap(folium.Map):
    """A ``folium.Map`` whose inline view reuses the templates its page compiled.

    Everything else is folium's (the same page, layers and methods), except that the
    page lets a phone's reader zoom with two fingers: folium's viewport line says
    ``user-scalable=no``.
    """

    def render(self, **kwargs):
        super().render(**kwargs)
        header = self.get_root().header
        element = header._children.get(self.get_name())
        source = getattr(element, "_template_str", None)
        if source and _NO_PINCH.search(source):
            header._children[self.get_name()] = type(element)(_NO_PINCH.sub("", source))

    def _repr_html_(self, **kwargs):
        with rendering(self):
            return super()._repr_html_(**kwargs)
