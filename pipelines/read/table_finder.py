"""pdfplumber's table finder with its cell search done once per intersection instead of once per
pair of intersections.

``pdfplumber.table.intersections_to_cells`` rebuilds, for every pair of intersections it tests,
the sets of the edges through both, and scans all the intersections after each one for those
directly below and directly right of it: a ruled page of a few hundred intersections spends most
of its table finding there. Here the edge sets are built once per intersection and the points
below and right come from the points grouped by column and by row. The cells, and so the tables,
are the same: the same points are tried in the same order with the same tests.
"""

from __future__ import annotations

from pdfplumber.table import Table, TableFinder, TableSettings, cells_to_tables, edges_to_intersections
from pdfplumber.utils import obj_to_bbox

Point = tuple[float, float]


def intersections_to_cells(intersections: dict[Point, dict[str, list[dict]]]) -> list[tuple]:
    """``pdfplumber.table.intersections_to_cells``: the smallest cell each intersection is the
    top-left corner of, in the order of the sorted intersections."""
    vertical = {p: {obj_to_bbox(e) for e in found["v"]} for p, found in intersections.items()}
    horizontal = {p: {obj_to_bbox(e) for e in found["h"]} for p, found in intersections.items()}

    def connects(p1: Point, p2: Point) -> bool:
        if p1[0] == p2[0] and not vertical[p1].isdisjoint(vertical[p2]):
            return True
        return p1[1] == p2[1] and not horizontal[p1].isdisjoint(horizontal[p2])

    points = sorted(intersections)
    # the points of one x (of one top), in the sorted order: those after a point are the points
    # below it (right of it) that pdfplumber finds among all the points after it
    columns: dict[float, list[Point]] = {}
    rows: dict[float, list[Point]] = {}
    at_column: dict[Point, int] = {}
    at_row: dict[Point, int] = {}
    for p in points:
        column, row = columns.setdefault(p[0], []), rows.setdefault(p[1], [])
        at_column[p], at_row[p] = len(column), len(row)
        column.append(p)
        row.append(p)
    cells: list[tuple] = []
    for pt in points[:-1]:
        below = columns[pt[0]][at_column[pt] + 1 :]
        right = rows[pt[1]][at_row[pt] + 1 :]
        cell = _smallest_cell(pt, below, right, intersections, connects)
        if cell is not None:
            cells.append(cell)
    return cells


def _smallest_cell(pt: Point, below: list[Point], right: list[Point], intersections, connects) -> tuple | None:
    for below_pt in below:
        if not connects(pt, below_pt):
            continue
        for right_pt in right:
            if not connects(pt, right_pt):
                continue
            bottom_right = (right_pt[0], below_pt[1])
            if bottom_right in intersections and connects(bottom_right, right_pt) and connects(bottom_right, below_pt):
                return (pt[0], pt[1], bottom_right[0], bottom_right[1])
    return None


def find_tables(page) -> list[Table]:
    """``page.find_tables()`` with the default settings, through the cell search above."""
    finder = TableFinder.__new__(TableFinder)  # its __init__ would run pdfplumber's own cell search
    finder.page = page
    finder.settings = settings = TableSettings.resolve(None)
    finder.edges = finder.get_edges()
    finder.intersections = edges_to_intersections(
        finder.edges, settings.intersection_x_tolerance, settings.intersection_y_tolerance
    )
    finder.cells = intersections_to_cells(finder.intersections)
    finder.tables = [Table(page, group) for group in cells_to_tables(finder.cells)]
    return finder.tables
