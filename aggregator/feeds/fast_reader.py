"""feedparser's strict parser fed from an lxml tree instead of SAX events: the walk, and the naming of
elements and attributes that ``StrictFeedParser.startElementNS`` does.
"""

from __future__ import annotations

from typing import Any

from aggregator.feeds.fast_plumbing import ElementInfo, Plumbing, Unsupported

__all__ = ["TreeReader"]

_XLINK = "http://www.w3.org/1999/xlink"
_XML_NS = "http://www.w3.org/XML/1998/namespace"
_ROOTS = frozenset({"rss", "rdf:rdf", "feed"})
_UNSUPPORTED_LOCAL_NAMES = frozenset({"svg", "math"})  # feedparser's svgOK / MathML bookkeeping
_MISSING = object()


def _split(tag: str) -> tuple[str | None, str]:
    if tag[0] == "{":
        namespace, local = tag[1:].split("}", 1)
        return namespace, local
    return None, tag


class TreeReader(Plumbing):
    """feedparser's strict parser, fed from an lxml tree instead of SAX events."""

    def __init__(self, baseuri: str, *, nested_namespaces: bool) -> None:
        # What StrictFeedParser.__init__ sets, then the mixin's state.
        self.bozo = 0
        self.exc = None
        self.decls: dict[str, str] = {}
        self.baseuri = baseuri
        self.lang: str | None = None
        self.encoding = "utf-8"
        super().__init__()
        self.resolve_relative_uris = False
        self.sanitize_html = False
        self.contentparams: dict[str, Any] = {}  # a FeedParserDict in feedparser; no key of it is mapped
        self._nested_namespaces = nested_namespaces
        self._elements: dict[str, ElementInfo] = {}
        self._joins: dict[tuple[str, str], str] = {}
        self._depths: dict[int, dict[str, int]] = {}  # property_depth_map, keyed by id(entry)
        self._resolved: dict[tuple[str, str], str] = {}
        self._dates: dict[str | None, Any] = {}
        self._markup_pieces: dict[int, list[str]] = {}  # keeps them alive: ids stay unique

    # -- the walk (xml.sax.expatreader + StrictFeedParser) --------------------

    def read(self, root: Any) -> None:
        for prefix, uri in root.nsmap.items():
            self._declare(prefix, uri)
        element = self._element(root.tag)
        if element.name not in _ROOTS:
            raise Unsupported(f"root element <{root.tag}>")
        self._visit(root, root.nsmap)

    def _visit(self, node: Any, nsmap: dict[str | None, str]) -> None:
        tag = node.tag
        if tag.__class__ is not str:
            raise Unsupported("an entity reference")
        if self._nested_namespaces:
            own = node.nsmap
            if own != nsmap:
                for prefix, uri in own.items():
                    if nsmap.get(prefix, _MISSING) != uri:
                        self._declare(prefix, uri)
                nsmap = own
        self._start(
            self._elements.get(tag) or self._element(tag), self._attributes(node) if node.attrib else {}
        )
        text = node.text
        if text:
            self._data(text)
        for child in node:
            self._visit(child, nsmap)
            text = child.tail
            if text:
                self._data(text)
        self._end(self._elements.get(tag) or self._element(tag))

    def _declare(self, prefix: str | None, uri: str) -> None:
        """StrictFeedParser.startPrefixMapping."""
        if not uri:
            return
        if uri == _XLINK:
            raise Unsupported("an XLink namespace declaration")
        self.track_namespace(prefix or None, uri)
        self._elements.clear()

    def _element(self, tag: str) -> ElementInfo:
        """How feedparser names and handles an element: known namespaces by their usual prefix."""
        namespace, local = _split(tag)
        if not local.isascii():
            raise Unsupported("a non-ASCII element name")
        local = local.lower()
        if local in _UNSUPPORTED_LOCAL_NAMES:
            raise Unsupported(f"inline <{local}>")
        lowered = (namespace or "").lower()
        if "backend.userland.com/rss" in lowered:
            namespace = lowered = "http://backend.userland.com/rss"
        known = self._matchnamespaces.get(lowered)
        name = local
        if known:
            name = known.lower() + ":" + local
        elif namespace:
            for declared, uri in self.namespaces_in_use.items():
                if declared and uri == namespace:
                    name = declared + ":" + local
                    break
        name = name.lower()
        # unknown_starttag / unknown_endtag: the handler's name, through the document's prefixes
        prefix, suffix = name.split(":", 1) if ":" in name else ("", name)
        prefix = self.namespacemap.get(prefix, prefix)
        key = (prefix + "_" if prefix else "") + suffix
        element = ElementInfo(
            name=name,
            local=name.split(":", 1)[1] if ":" in name else name,
            key=key,
            start=getattr(self, "_start_" + key, None),
            end=getattr(self, "_end_" + key, None),
            ends_textinput=not prefix and name not in ("title", "link", "description", "name"),
            ends_image=not prefix
            and name not in ("title", "link", "description", "url", "href", "width", "height"),
        )
        self._elements[tag] = element
        return element

    def _attributes(self, node: Any) -> dict[str, str]:
        """The attribute dictionary StrictFeedParser.startElementNS builds, normalised."""
        attrs: dict[str, str] = {}
        qualified: list[tuple[str, str]] = []
        for key, value in node.attrib.items():
            if not key.isascii():
                raise Unsupported("a non-ASCII attribute name")  # expat and libxml2 differ on names
            if key[0] == "{":
                namespace, local = _split(key)
                prefix = self._matchnamespaces.get((namespace or "").lower(), "")
                attrs[(prefix + ":" + local if prefix else local).lower()] = value
                qualified.append((self._attribute_prefix(node, namespace) + ":" + local, value))
            else:
                attrs[key.lower()] = value
                qualified.append((key, value))
        for qname, value in qualified:
            attrs[qname.lower()] = value
        for key in ("rel", "type"):
            if key in attrs:
                attrs[key] = attrs[key].lower()
        return attrs

    @staticmethod
    def _attribute_prefix(node: Any, namespace: str | None) -> str:
        if namespace == _XML_NS:
            return "xml"
        prefixes: list[str] = [prefix for prefix, uri in node.nsmap.items() if prefix and uri == namespace]
        if len(prefixes) != 1:
            raise Unsupported("an attribute whose namespace prefix is ambiguous")
        return prefixes[0]
