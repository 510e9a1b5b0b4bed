"""Static collections and their Home/Recommended visibility, as a Plex Media Server keeps them.

Serves what plexapi 4.18's `createCollection`, `Collection.items/addItems/removeItems`,
`editSummary`/`editSortTitle` (a PUT on the section's `all` with `type=18`) and
`visibility()/updateVisibility()` send:

    POST   /library/collections?uri=server://…/library/metadata/1,2&type=1&title=…&sectionId=1
    GET    /library/metadata/{id}                 (the collection, `type="collection"`)
    GET    /library/collections/{id}/children      (its items; also …/metadata/{id}/children)
    PUT    /library/collections/{id}/items?uri=…   (add)
    DELETE /library/collections/{id}/items/{key}   (remove one)
    DELETE /library/metadata/{id}                  (someone deleted the collection in Plex)
    PUT    /library/sections/{s}/all?type=18&id={id}&summary.value=…&titleSort.value=…
    GET    /hubs/sections/{s}/manage[?metadataItemId={id}]
    POST   /hubs/sections/{s}/manage?metadataItemId={id}&promotedTo…=0|1
    PUT    /hubs/sections/{s}/manage/{identifier}?promotedTo…=0|1
"""

from __future__ import annotations

from dataclasses import dataclass, field

from simulators.plex_xml import attrs, container

SUBTYPES = {1: "movie", 2: "show", 3: "season", 4: "episode"}
PROMOTIONS = ("promotedToRecommended", "promotedToOwnHome", "promotedToSharedHome")


@dataclass
class Collection:
    rating_key: int
    section_key: str
    title: str
    subtype: str
    items: list[int] = field(default_factory=list)  # rating keys, in order
    summary: str = ""
    title_sort: str = ""
    added_at: int = 1_700_000_000
    hub: dict[str, bool] | None = None  # promotions once managed

    @property
    def identifier(self) -> str:
        return f"custom.collection.{self.section_key}.{self.rating_key}"


def keys_from_uri(uri: str) -> list[int]:
    """`server://<machine>/com.plexapp.plugins.library/library/metadata/1,2,3` → [1, 2, 3]."""
    tail = uri.rsplit("/library/metadata/", 1)[-1]
    return [int(k) for k in tail.split(",") if k.strip().isdigit()]


def collection_xml(c: Collection, section_title: str) -> str:
    head = attrs(
        ratingKey=c.rating_key,
        key=f"/library/collections/{c.rating_key}/children",
        guid=f"collection://{c.rating_key:08d}-sim",
        type="collection",
        title=c.title,
        titleSort=c.title_sort or None,
        librarySectionID=c.section_key,
        librarySectionKey=f"/library/sections/{c.section_key}",
        librarySectionTitle=section_title,
        subtype=c.subtype,
        summary=c.summary,
        index="1",
        smart="0",
        childCount=len(c.items),
        addedAt=c.added_at,
        updatedAt=c.added_at,
    )
    return f"<Directory{head}>\n</Directory>\n"


def hubs_xml(collections: list[Collection], section_key: str) -> str:
    body = "".join(
        f"<Hub{attrs(identifier=c.identifier, title=c.title, deletable='1', **_flags(c))} />\n"
        for c in collections
        if c.hub is not None
    )
    return container(body, size=str(body.count("<Hub")), librarySectionID=section_key)


def _flags(c: Collection) -> dict[str, str]:
    hub = c.hub or {}
    flags = {name: "1" if hub.get(name) else "0" for name in PROMOTIONS}
    flags["homeVisibility"] = "all" if hub.get("promotedToOwnHome") else "none"
    return flags


def promotions_from(query: dict[str, str], current: dict[str, bool] | None) -> dict[str, bool]:
    result = dict(current or {})
    for name in PROMOTIONS:
        if name in query:
            result[name] = query[name] == "1"
    return result
