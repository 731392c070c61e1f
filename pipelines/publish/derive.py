"""The derived tables (documents with status, unit and canonical document; units; the member units
tables print; publication conflicts), kept between runs and recomputed for the groups of the
changed documents only.

Each derived row depends on a bounded group of documents:

- a document's status (``versions.py``) on the documents at its path and those of its identity
  (unit name, year, kind, scope: the re-publications of one file name are among them);
- a unit's row (``units.py``) on the documents and member-unit entries (决算 rosters, the member
  units tables print) naming it, and on the units joined to it by an entry (a department and its
  member units: parent, region and level pass from one to the other) or by the ``X（本级）`` rule;
- a canonical choice and its conflicts (``canonical.py``) on the documents of one unit, year, kind
  and scope.

``derive`` takes the previous derivation kept in ``<lake>/tables`` (its frames, and what each
document looked like to it: ``Derivation.inputs``, the member-unit ``entries``), finds the documents
whose inputs differ (their state, their place in the registry's newness order), closes them over
those relations (the paths and identities they had and have; the connected units; the canonical
groups) and runs the same functions (``resolve_versions``, ``build_units``, ``choose_canonical``,
``conflict_findings``) on those groups alone. Each function sees every input of the groups it is
given, in the same order as the whole computation, so its rows are the whole computation's rows
for them; every other row is the previous one. The whole recomputation is used when there is no
previous derivation, when the code or the alias file that derive the tables changed (an alias can
join any two units: its groups cannot be bounded), and when most documents changed.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

import polars as pl

from pipelines.normalize.frames import SCHEMAS
from pipelines.publish.canonical import choose_canonical, conflict_findings
from pipelines.publish.lake import Lake, SourceEntry
from pipelines.publish.lake_tables import (
    DOCUMENT_SCHEMA,
    MEMBER_UNIT_SCHEMA,
    UNIT_SCHEMA,
    _files_of,
    _member_units,
    docs_with_rows,
    scan_files,
)
from pipelines.publish.units import (
    _FULL_WIDTH_KIND_NOTE,
    build_units,
    connected_units,
    key_for_name,
    read_aliases,
    remember_unit_key,
)
from pipelines.publish.versions import resolve_versions

INPUT_SCHEMA = {"doc_id": pl.Utf8, "signature": pl.Utf8}
# A member-unit entry as build_units reads it: roster (kind 0, the document's bridge_dept_unit rows
# in file order) before tables (kind 1, sorted by the printed name), by doc_id.
ENTRY_SCHEMA = {
    "kind": pl.Int8, "doc_id": pl.Utf8, "seq": pl.Int32, "member_unit_name": pl.Utf8, "printed": pl.Utf8,
    "fiscal_year": pl.Int32, "source": pl.Utf8, "member_key": pl.Utf8,
}  # fmt: skip
# Past this share of the documents (and this many), recomputing everything is as cheap.
WHOLE_SHARE, WHOLE_MIN_DOCUMENTS = 0.25, 50


@dataclass
class Derivation:
    frames: dict[str, pl.DataFrame]  # doc_document, dim_unit, dim_member_unit, fact_publication_check
    inputs: pl.DataFrame  # doc_id → signature of what the derivation read of the document
    entries: pl.DataFrame  # the member-unit entries (ENTRY_SCHEMA)
    how: str = "whole"  # whole | groups | unchanged: how it was computed (logged, and for tests)
    recomputed: dict[str, int] = field(default_factory=dict)  # rows recomputed per group kind
    # table → the keys (DERIVED_KEYS) of the rows that may differ from the previous derivation's;
    # None: any row may (computed whole, or no previous one)
    replaced: dict[str, set] | None = None

    def token(self) -> str:
        """Names the derived tables: equal inputs (and code) give equal tables. A warehouse records
        the token of its derived tables (``DERIVATION_TOKEN_KEY``), so that the next run compares
        its new tables with the kept ones instead of reading the published file's."""
        from pipelines.publish.lake import derivation_fingerprint

        h = hashlib.sha256(derivation_fingerprint().encode())
        frame = self.inputs.sort("doc_id")
        h.update("\n".join(frame["doc_id"].to_list()).encode())
        h.update("\n".join(frame["signature"].to_list()).encode())
        return h.hexdigest()[:16]


DERIVATION_TOKEN_KEY = "derivation_token"


def _newness(registry: Mapping[str, SourceEntry], doc: dict) -> tuple:
    entry = registry.get(doc["source_file"])
    if entry is not None and entry.sha256 == doc["sha256"]:
        return (entry.registered_at, entry.mtime, doc["source_file"])
    # an older version: when it was registered is kept in its document row
    return (doc.get("registered_at") or "", doc.get("mtime") or 0.0, doc["source_file"])


def _document_rows(docs: list[dict], superseded: dict[str, str]) -> list[dict]:
    rows = []
    for doc in docs:
        row = {k: doc.get(k) for k in DOCUMENT_SCHEMA}
        if doc.get("duplicate_of"):  # a byte-identical copy (lakes written before it had its own status)
            row["status"] = "duplicate"
        if doc["doc_id"] in superseded:
            row["status"] = "superseded"
            row["superseded_by"] = superseded[doc["doc_id"]]
        rows.append(row)
    return rows


def _entries(lake: Lake, docs: list[dict], rows: list[dict], aliases: dict) -> list[dict]:
    """The member-unit entries of these documents, in build_units' order (ENTRY_SCHEMA)."""
    out: list[dict] = []
    roster_docs = docs_with_rows(lake, docs, "bridge_dept_unit")
    if roster_docs:
        roster = scan_files(_files_of(lake, roster_docs, "bridge_dept_unit"), "bridge_dept_unit")
        roster = roster.select("doc_id", "member_unit_name").collect()
        seq: dict[str, int] = defaultdict(int)
        for doc_id, member in roster.iter_rows():
            out.append({"kind": 0, "doc_id": doc_id, "seq": seq[doc_id], "member_unit_name": member})
            seq[doc_id] += 1
    seq = defaultdict(int)
    for m in _member_units(lake, docs, rows):
        out.append({"kind": 1, "seq": seq[m["doc_id"]], **m})
        seq[m["doc_id"]] += 1
    for e in out:
        member = e.get("member_unit_name")
        e["member_key"] = key_for_name(_FULL_WIDTH_KIND_NOTE.sub("", member) or member, aliases) if member else None
    return out


def _frames(
    rows: list[dict], unit_rows: list[dict], members: list[dict], aliases: dict, chosen: dict, func: pl.DataFrame
) -> dict[str, pl.DataFrame]:
    return {
        "doc_document": pl.DataFrame(rows, schema=DOCUMENT_SCHEMA, strict=False),
        "dim_unit": pl.DataFrame(unit_rows, schema=UNIT_SCHEMA, strict=False),
        "dim_member_unit": _member_frame(members, aliases),
        "fact_publication_check": conflict_findings(rows, chosen, func, SCHEMAS["fact_check"]),
    }


def _member_frame(members: list[dict], aliases: dict) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"doc_id": m["doc_id"], "member_unit_name": m["printed"],
             "unit_key": key_for_name(m["member_unit_name"], aliases), "unit_name": m["member_unit_name"]}
            for m in members
        ],
        schema=MEMBER_UNIT_SCHEMA,
    )  # fmt: skip


def _contested_func(lake: Lake, chosen: dict[str, str], with_func: set[str]) -> pl.DataFrame:
    """Only the contested documents' function rows are read (the conflicts compare them)."""
    contested = sorted({d for pair in chosen.items() if pair[0] != pair[1] for d in pair} & with_func)
    if not contested:
        return pl.DataFrame(schema=SCHEMAS["fact_func_amount"])
    return scan_files(_files_of(lake, contested, "fact_func_amount"), "fact_func_amount").collect()


def derive(lake: Lake, previous: Derivation | None = None) -> Derivation:
    """The derived tables of the lake now: from ``previous`` where it can (see the module docstring)."""
    inputs = _inputs(lake.summary_frame(), lake.registry_store().orders())
    if previous is not None:
        both = inputs.join(previous.inputs, on="doc_id", how="full", suffix="_old", coalesce=True)
        changed = set(both.filter(pl.col("signature").ne_missing(pl.col("signature_old")))["doc_id"].to_list())
        if not changed:
            return Derivation(previous.frames, inputs, previous.entries, "unchanged", replaced={})
        if len(changed) <= max(WHOLE_MIN_DOCUMENTS, WHOLE_SHARE * inputs.height):
            return _derive_groups(lake, previous, changed, inputs)
    return _derive_whole(lake, lake.registry(), inputs)


def _inputs(frame: pl.DataFrame, registry_orders: pl.DataFrame) -> pl.DataFrame:
    """doc_id → what the derivation reads of the document: its state, its place in the newness
    order and whether its bytes are those registered at its path now (``_newness``; the
    registry's side from ``lake_registry.Registry.orders``)."""
    reg = registry_orders.unique("source_file", keep="last")
    joined = frame.select("doc_id", "state", "source_file", "sha256", "own_order").join(
        reg, on="source_file", how="left"
    )
    current = pl.col("reg_sha").eq_missing(pl.col("sha256")) & pl.col("reg_sha").is_not_null()
    order = pl.when(current).then(pl.col("reg_order")).otherwise(pl.col("own_order"))
    signature = pl.concat_str([pl.col("state"), order, current.cast(pl.Int8).cast(pl.Utf8)], separator="|")
    return joined.select("doc_id", signature.alias("signature")).cast(INPUT_SCHEMA)  # type: ignore[arg-type]


def _derive_whole(lake: Lake, registry: dict[str, SourceEntry], inputs: pl.DataFrame) -> Derivation:
    docs = [row for row, _state in lake.summaries()]
    current_sha = {e.source_file: e.sha256 for e in registry.values()}
    order = {doc["doc_id"]: _newness(registry, doc) for doc in docs}
    rows = _document_rows(docs, resolve_versions(docs, current_sha, order))
    aliases = read_aliases()
    entries = _entries(lake, docs, rows, aliases)
    unit_rows, doc_units = build_units(rows, entries, aliases)
    for row in rows:
        row["unit_key"] = doc_units.get(row["doc_id"])
    with_func = set(docs_with_rows(lake, docs, "fact_func_amount"))
    chosen = choose_canonical(rows, with_func, order)
    for row in rows:
        row["canonical_doc_id"] = chosen.get(row["doc_id"])
    members = [e for e in entries if e["kind"] == 1]
    frames = _frames(rows, unit_rows, members, aliases, chosen, _contested_func(lake, chosen, with_func))
    return Derivation(frames, inputs, _entry_frame(entries), "whole", {"documents": len(rows)})


class _Summaries:
    """The summaries of the documents a group derivation reads, fetched from the lake's index as
    they are needed (not 42,000 of them)."""

    def __init__(self, lake: Lake, present: set[str]):
        self.lake, self.present, self.rows = lake, present, {}

    def load(self, doc_ids) -> None:
        self.rows |= self.lake.summaries_of(set(doc_ids) - self.rows.keys())

    def __contains__(self, doc_id: str) -> bool:
        return doc_id in self.present

    def __getitem__(self, doc_id: str) -> dict:
        if doc_id not in self.rows:
            self.load([doc_id])
        return self.rows[doc_id]


def _entry_frame(entries: list[dict]) -> pl.DataFrame:
    return pl.DataFrame([{k: e.get(k) for k in ENTRY_SCHEMA} for e in entries], schema=ENTRY_SCHEMA, strict=False)


def _keys(frame: pl.DataFrame, column: str, values) -> pl.DataFrame:
    return frame.filter(pl.col(column).is_in(sorted(v for v in values if v is not None)))


def _identity(row: dict) -> tuple | None:
    key = (row.get("unit_name"), row.get("fiscal_year"), row.get("doc_kind"), row.get("scope"))
    return key if all(v is not None for v in key) else None


def _derive_groups(lake: Lake, previous: Derivation, changed: set[str], inputs: pl.DataFrame) -> Derivation:
    """The previous derivation with the groups of the ``changed`` documents recomputed (the module
    docstring says which groups, and why their rows are the whole computation's)."""
    by_id = _Summaries(lake, set(inputs["doc_id"].to_list()))
    by_id.load(d for d in changed if d in by_id)
    old_docs = previous.frames["doc_document"]
    old_rows = {r["doc_id"]: r for r in _keys(old_docs, "doc_id", changed).to_dicts()}
    # the unchanged documents as the previous derivation saw them (the changed ones are in by_id)
    stable = old_docs.filter(~pl.col("doc_id").is_in(sorted(changed)))

    # 1. versions: close the changed documents over paths and identities, old and new
    versions: set[str] = {d for d in changed if d in by_id}
    paths = {r["source_file"] for r in old_rows.values()} | {by_id[d]["source_file"] for d in versions}
    idents = {i for r in [*old_rows.values(), *(by_id[d] for d in versions)] if (i := _identity(r))}
    changed_here = [d for d in changed if d in by_id]
    seen_paths, seen_idents = set(), set()
    while paths - seen_paths or idents - seen_idents:
        new_paths, new_idents = paths - seen_paths, idents - seen_idents
        seen_paths |= new_paths
        seen_idents |= new_idents
        found = stable.filter(
            pl.col("source_file").is_in(sorted(new_paths))
            | pl.col("unit_name").is_in(sorted({i[0] for i in new_idents}))
        ).select("doc_id", "source_file", "unit_name", "fiscal_year", "doc_kind", "scope")
        for d, path, *ident in found.iter_rows():  # unchanged documents: their rows are their summaries'
            if d not in versions and (path in new_paths or tuple(ident) in new_idents):
                versions.add(d)
                paths.add(path)
                if all(v is not None for v in ident):
                    idents.add(tuple(ident))
        for d in changed_here:  # the changed documents now at those paths or identities
            if d not in versions and (by_id[d]["source_file"] in paths or _identity(by_id[d]) in idents):
                versions.add(d)
    by_id.load(versions)
    version_docs = [by_id[d] for d in sorted(versions)]
    registry = _RegistryOf(lake)  # the entries of the paths the groups hold, looked up as they are met
    registry.load(d["source_file"] for d in version_docs)
    current_sha = {p: registry[p].sha256 for p in {d["source_file"] for d in version_docs} if p in registry}
    order = {d["doc_id"]: _newness(registry, d) for d in version_docs}
    new_rows = {
        r["doc_id"]: r for r in _document_rows(version_docs, resolve_versions(version_docs, current_sha, order))
    }
    old_rows |= {r["doc_id"]: r for r in _keys(old_docs, "doc_id", versions - old_rows.keys()).to_dicts()}
    # the documents whose units, entries or canonical group may differ
    touched = set(changed) | {
        d for d in versions if d in old_rows and (old_rows[d]["status"], old_rows[d]["unit_name"]) != (
            new_rows[d]["status"], new_rows[d]["unit_name"])
    }  # fmt: skip

    # 2. units: the connected units of every unit these documents or their entries name
    aliases = read_aliases()
    touched_docs = [by_id[d] for d in sorted(touched) if d in by_id]
    touched_rows = [new_rows[d] for d in sorted(touched) if d in new_rows]
    new_entries = _entries(lake, touched_docs, touched_rows, aliases)
    old_entries = previous.entries.filter(pl.col("doc_id").is_in(sorted(touched)))
    entries = pl.concat([previous.entries.filter(~pl.col("doc_id").is_in(sorted(touched))), _entry_frame(new_entries)])
    entries = entries.sort("kind", "doc_id", "seq")
    doc_unit = dict(zip(stable["doc_id"].to_list(), stable["unit_key"].to_list(), strict=True))
    counted = ("loaded", "superseded", "duplicate")
    targets: dict[str, str] = {}  # unit key → the normalized name it is made of, for the X（本级） rule
    for d in touched & new_rows.keys():
        r = new_rows[d]
        doc_unit[d] = (
            remember_unit_key(r["unit_name"], aliases, targets) if r["unit_name"] and r["status"] in counted else None
        )
    for e in new_entries:
        if e.get("member_unit_name"):
            remember_unit_key(
                _FULL_WIDTH_KIND_NOTE.sub("", e["member_unit_name"]) or e["member_unit_name"], aliases, targets
            )
    seeds = {doc_unit.get(d) for d in touched} | {
        r.get("unit_key") for r in old_rows.values() if r["doc_id"] in touched
    }
    seeds |= set(old_entries["member_key"].to_list()) | {e["member_key"] for e in new_entries}
    seeds.discard(None)
    units = connected_units(seeds, entries, old_entries, doc_unit, old_rows, previous.frames["dim_unit"], targets)
    unit_docs = sorted(
        set(_keys(stable, "unit_key", units)["doc_id"].to_list()) | {d for d in touched if doc_unit.get(d) in units}
    )
    unit_entries = entries.filter(
        pl.col("member_key").is_in(sorted(units)) | pl.col("doc_id").is_in(sorted(d for d in doc_unit if doc_unit[d] in units))
    )  # fmt: skip
    stable_row = _StableRows(stable)
    stable_row.load(d for d in unit_docs if d not in new_rows)
    rows_for_units = [new_rows.get(d) or stable_row(d) for d in unit_docs]
    unit_rows, doc_units = build_units(rows_for_units, unit_entries.to_dicts(), aliases)

    # 3. canonical documents: the groups of unit, year, kind and scope these documents were or are in
    with_func = set(docs_with_rows(lake, touched_docs, "fact_func_amount"))
    group_of_new = {}
    for d in touched & new_rows.keys():
        r = {**new_rows[d], "unit_key": doc_units.get(d) if d in doc_units else doc_unit.get(d)}
        if (
            r["status"] == "loaded"
            and d in with_func
            and all(r.get(k) is not None for k in ("unit_key", "fiscal_year", "doc_kind"))
        ):
            group_of_new[d] = (r["unit_key"], r["fiscal_year"], r["doc_kind"], r["scope"])  # fmt: skip
    old_grouped = old_docs.filter(pl.col("canonical_doc_id").is_not_null())
    groups = set(group_of_new.values()) | {
        (r["unit_key"], r["fiscal_year"], r["doc_kind"], r["scope"])
        for r in _keys(old_grouped, "doc_id", touched).to_dicts()
    }
    group_frame = pl.DataFrame(
        [dict(zip(("unit_key", "fiscal_year", "doc_kind", "scope"), g, strict=True)) for g in groups],
        schema={"unit_key": pl.Utf8, "fiscal_year": pl.Int32, "doc_kind": pl.Utf8, "scope": pl.Utf8},
    )
    old_members = old_grouped.join(group_frame, on=["unit_key", "fiscal_year", "doc_kind", "scope"], nulls_equal=True)
    old_members = set(old_members["doc_id"].to_list())
    members = (old_members - touched) | set(group_of_new)
    canon_rows = []
    stable_row.load(d for d in members if d not in new_rows)
    by_id.load(members)
    registry.load(by_id[d]["source_file"] for d in members)
    order |= {d: _newness(registry, by_id[d]) for d in members}
    for d in sorted(members):
        row = dict(new_rows.get(d) or stable_row(d))
        row["unit_key"] = doc_units.get(d, doc_unit.get(d))
        canon_rows.append(row)
    chosen = choose_canonical(canon_rows, (with_func & touched) | (members - touched), order)
    func = _contested_func(lake, chosen, (with_func & touched) | (members - touched))
    conflicts = conflict_findings(canon_rows, chosen, func, SCHEMAS["fact_check"])

    # the new frames: the previous rows, those of the recomputed groups replaced
    redo = versions | touched | members | old_members | set(doc_units)
    rows = []
    here = {d for d in redo if d in by_id}  # the others were removed from the lake
    stable_row.load(d for d in here if d not in new_rows)
    for d in sorted(here):
        row = dict(new_rows.get(d) or stable_row(d))
        prior = old_rows.get(d) or row  # the previous derived row (a document's own row lacks these)
        row["unit_key"] = doc_units.get(d) if d in doc_units or d in touched else prior["unit_key"]
        row["canonical_doc_id"] = (
            chosen.get(d) if d in members or d in old_members or d in touched else prior["canonical_doc_id"]
        )
        rows.append(row)
    old_units = previous.frames["dim_unit"]
    frames = {
        "doc_document": _replace(old_docs, "doc_id", redo, pl.DataFrame(rows, schema=DOCUMENT_SCHEMA, strict=False)),
        "dim_unit": _replace(old_units, "unit_key", units, pl.DataFrame(unit_rows, schema=UNIT_SCHEMA, strict=False)),
        "dim_member_unit": _replace(
            previous.frames["dim_member_unit"], "doc_id", touched, _member_frame([e for e in new_entries if e["kind"] == 1], aliases)
        ),
        "fact_publication_check": _replace(
            previous.frames["fact_publication_check"], "doc_id", members | old_members, conflicts
        ),
    }  # fmt: skip
    recomputed = {"documents": len(rows), "versions": len(versions), "units": len(unit_rows), "canonical": len(members)}
    replaced = {
        "doc_document": redo, "dim_unit": units, "dim_member_unit": touched,
        "fact_publication_check": members | old_members,
    }  # fmt: skip
    return Derivation(frames, inputs, entries, "groups", recomputed, replaced)


class _RegistryOf(dict):
    """The registry entries of the paths a group derivation meets (``load``: one lookup per batch)."""

    def __init__(self, lake: Lake):
        super().__init__()
        self.lake = lake

    def load(self, paths) -> None:
        missing = set(paths) - self.keys()
        if missing:
            self.update(self.lake.registry_entries(missing))


class _StableRows:
    """The previous rows of unchanged documents, read from the frame in one filter per batch."""

    def __init__(self, stable: pl.DataFrame):
        self.stable, self.rows = stable, {}

    def load(self, doc_ids) -> None:
        missing = sorted(set(doc_ids) - self.rows.keys())
        if missing:
            self.rows |= {r["doc_id"]: r for r in _keys(self.stable, "doc_id", missing).to_dicts()}

    def __call__(self, doc_id: str) -> dict:
        return self.rows[doc_id]


def _replace(old: pl.DataFrame, key: str, keys: set, new: pl.DataFrame) -> pl.DataFrame:
    kept = old.filter(~pl.col(key).is_in(sorted(k for k in keys if k is not None)))
    return pl.concat([kept, new.select(old.columns).cast(old.schema)]).sort(key, maintain_order=True)


# The derivation's own record in lake/tables, beside the derived tables (committed by the same
# fingerprint record, which names the code that derived them).
INPUTS_FILE, ENTRIES_FILE = "_derive_inputs", "_derive_entries"
DERIVED_FRAMES = ("doc_document", "dim_unit", "dim_member_unit", "fact_publication_check")


def derivation_files(derivation: Derivation) -> dict[str, pl.DataFrame]:
    """What lake/tables keeps of a derivation: its tables, then its inputs and entries."""
    return {**derivation.frames, INPUTS_FILE: derivation.inputs, ENTRIES_FILE: derivation.entries}


def load_derivation(lake: Lake) -> Derivation | None:
    """The derivation kept in lake/tables, or None when it cannot be the base of the next one (none,
    an interrupted write, or derived by other code or another alias file)."""
    from pipelines.publish.lake import derivation_fingerprint
    from pipelines.publish.lake_tables import _fingerprint_record, tables_dir

    record = _fingerprint_record(lake)
    if not record or record.get("derivation") != derivation_fingerprint():
        return None
    folder = tables_dir(lake)
    try:
        files = {
            name: pl.read_parquet(folder / f"{name}.parquet") for name in (*DERIVED_FRAMES, INPUTS_FILE, ENTRIES_FILE)
        }
    except (OSError, pl.exceptions.PolarsError):
        return None
    if files[INPUTS_FILE].schema != pl.Schema(INPUT_SCHEMA) or files[ENTRIES_FILE].schema != pl.Schema(ENTRY_SCHEMA):
        return None
    frames = {name: files[name] for name in DERIVED_FRAMES}
    return Derivation(frames, files[INPUTS_FILE], files[ENTRIES_FILE], "kept")
