"""From the user's frames to the item tables the cold-start models read.

:func:`known_items` checks the sales history and attributes given to ``fit`` and joins them into
the known items' table and sales rows; :func:`new_items` checks the attribute rows of new items
(``predict``, ``update``, ``analogues``) and their launch dates; both encode the rows with
:func:`encode_items` into an :class:`~workbench.coldstart.models.ItemTable`.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np
import pandas as pd

from workbench.coldstart.inputs import (
    AttributeSchema,
    Calendar,
    check_frame,
    check_gaps,
    check_history,
    resolve_launch_dates,
)
from workbench.coldstart.models import ItemTable
from workbench.core.errors import InputError

__all__ = ["MIN_KNOWN_ITEMS", "KnownItems", "encode_items", "known_items", "new_items"]

MIN_KNOWN_ITEMS = 8
"""Fewest known items with sales that ``fit`` accepts."""
MAX_EMBEDDED_LEVELS = 250
"""Categorical attributes with more levels than this are not native categories of the trees."""


def encode_items(
    attrs: pd.DataFrame,
    launch: np.ndarray,
    *,
    schema: AttributeSchema,
    id_col: str,
    category: str | None,
) -> ItemTable:
    """Encode attribute rows (already checked against ``schema``) as an item table.

    Parameters
    ----------
    attrs : pandas.DataFrame
        One row per item: ``id_col`` and the attribute columns of ``schema``.
    launch : numpy.ndarray of int
        Launch period of each row on the training calendar.
    schema : AttributeSchema
        The attribute columns and levels learnt in ``fit``.
    id_col : str
        Column of the item ids.
    category : str or None
        Categorical attribute whose levels are the model groups (None: one group).

    Returns
    -------
    ItemTable
    """
    codes = schema.codes(attrs)
    if category is not None:
        group = codes[:, schema.categorical.index(category)]
    else:
        group = np.zeros(len(attrs), dtype=np.int64)
    cat_mask = np.array(
        [False] * len(schema.numeric)
        + [len(schema.levels[c]) <= MAX_EMBEDDED_LEVELS for c in schema.categorical]
    )
    return ItemTable(
        ids=attrs[id_col].astype(str).to_numpy(dtype=object),
        num=schema.numeric_matrix(attrs),
        codes=codes,
        group=group,
        dist=schema.distance_matrix(attrs, category),
        launch=np.asarray(launch, dtype=np.int64),
        cat_mask=cat_mask,
    )


@dataclasses.dataclass(frozen=True)
class KnownItems:
    """The known items of ``fit``: their encoded attributes and their sales rows.

    Attributes
    ----------
    schema : AttributeSchema
        Attribute columns, kinds and levels seen in training.
    calendar : Calendar
        The period grid of the training history.
    ids : numpy.ndarray of object
        Item ids (str), sorted; row ``i`` of ``items`` is ``ids[i]``.
    items : ItemTable
        Encoded attributes and launch period of every known item.
    item, t, y : numpy.ndarray
        One entry per sales row: item position, period and quantity.
    groups : numpy.ndarray of str or None
        Each item's level of ``calibration_group`` (None when not given).
    """

    schema: AttributeSchema
    calendar: Calendar
    ids: np.ndarray
    items: ItemTable
    item: np.ndarray
    t: np.ndarray
    y: np.ndarray
    groups: np.ndarray | None


def known_items(
    history: Any,
    attributes: Any,
    *,
    id_col: str,
    date_col: str,
    target_col: str,
    freq: str | None,
    missing: str,
    category: str | None,
    calibration_group: str | None,
    stacklevel: int = 2,
) -> KnownItems:
    """Check the training history and attributes and join them into the known items.

    Parameters
    ----------
    history : pandas.DataFrame
        Long-format sales with ``id_col``, ``date_col`` and ``target_col``.
    attributes : pandas.DataFrame
        One row per item with ``id_col`` and the attribute columns.
    id_col, date_col, target_col : str
        Column names.
    freq : str or None
        Calendar frequency (None: inferred from the dates).
    missing : {"raise", "zero"}
        Policy for periods missing inside an item's history.
    category : str or None
        Categorical attribute that defines the model groups.
    calibration_group : str or None
        Attribute column whose groups are held out together during calibration.
    stacklevel : int, default=2
        The ``stacklevel`` the caller would give :func:`warnings.warn`, so that the warning
        points at the user's call.

    Returns
    -------
    KnownItems

    Raises
    ------
    InputError
        On missing columns, dates or attribute rows, gaps (``missing="raise"``), a
        ``category`` that is not a categorical attribute, an unknown ``calibration_group`` or
        fewer than :data:`MIN_KNOWN_ITEMS` items.

    Warns
    -----
    UserWarning
        For attribute rows of items without history (they are ignored).
    """
    hist = check_history(
        history, id_col=id_col, date_col=date_col, target_col=target_col, missing=missing
    )
    attrs = check_frame(attributes, name="attributes")
    if id_col not in attrs.columns:
        raise InputError(f"attributes lacks the item id column {id_col!r}.")
    calendar = Calendar.infer(pd.DatetimeIndex(hist["date"]), freq)
    frame = check_gaps(
        hist, calendar.index(pd.DatetimeIndex(hist["date"])), missing=missing, name="history"
    )
    ids_attr = attrs[id_col].astype(str)
    missing_attr = sorted(set(frame["item"]) - set(ids_attr))
    if missing_attr:
        raise InputError(
            f"{len(missing_attr)} item(s) in history have no attribute row (e.g. "
            f"{missing_attr[:3]}); add them to attributes."
        )
    unused = ~ids_attr.isin(frame["item"].unique())
    if unused.any():
        warnings.warn(
            f"{int(unused.sum())} item(s) in attributes have no history and are ignored in "
            "fit; forecast them with predict().",
            UserWarning,
            stacklevel=stacklevel + 1,
        )
        attrs = attrs[~unused.to_numpy()]
    schema = AttributeSchema.learn(attrs, id_col)
    schema.check(attrs, name="attributes", handle_unknown="error")
    if category is not None and category not in schema.categorical:
        where = "numeric" if category in schema.numeric else "missing"
        raise InputError(
            f"category={category!r} must be a categorical attribute column, but it is "
            f"{where} (categorical columns: {schema.categorical}). Pass category=None for "
            "one global launch curve."
        )
    if calibration_group is not None and calibration_group not in schema.columns:
        raise InputError(
            f"calibration_group={calibration_group!r} is not an attribute column; "
            f"choose one of {schema.columns}."
        )
    attrs = attrs.assign(**{id_col: attrs[id_col].astype(str)}).set_index(id_col)
    codes, uniq = pd.factorize(frame["item"], sort=True)
    ids = np.asarray(uniq, dtype=object)
    n = len(uniq)
    if n < MIN_KNOWN_ITEMS:
        raise InputError(f"fit needs at least {MIN_KNOWN_ITEMS} known items with history, got {n}.")
    t = frame["t"].to_numpy(np.int64)
    launch = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(launch, codes, t)
    items = encode_items(
        attrs.loc[ids].reset_index(), launch, schema=schema, id_col=id_col, category=category
    )
    groups = None
    if calibration_group is not None:
        groups = attrs.loc[ids, calibration_group].astype(str).to_numpy()
    return KnownItems(
        schema=schema,
        calendar=calendar,
        ids=ids,
        items=items,
        item=codes,
        t=t,
        y=frame["y"].to_numpy(float),
        groups=groups,
    )


def refuse_all_unseen(
    attrs: pd.DataFrame, schema: AttributeSchema, *, name: str, id_col: str
) -> None:
    """Refuse items none of whose attributes was seen in training: nothing links them to sales.

    Parameters
    ----------
    attrs : pandas.DataFrame
        Checked attribute rows of new items.
    schema : AttributeSchema
        The training schema.
    name : str
        The argument's name, for the message.
    id_col : str
        Column of the item ids.
    """
    if not schema.categorical or len(attrs) == 0:
        return
    blank = (schema.codes(attrs) < 0).all(axis=1)
    if schema.numeric:
        blank &= np.isnan(schema.numeric_matrix(attrs)).all(axis=1)
    if blank.any():
        ids = attrs.loc[blank, id_col].astype(str).tolist()[:3]
        raise InputError(
            f"{int(blank.sum())} item(s) of {name} (e.g. {ids}) have only attribute values "
            f"unseen in training ({schema.categorical}); nothing links them to known items. "
            "Map at least one attribute (e.g. the category) to a level seen in fit."
        )


def new_items(
    attributes: Any,
    launch_date: Any,
    *,
    schema: AttributeSchema,
    calendar: Calendar,
    known_ids: np.ndarray,
    id_col: str,
    category: str | None,
    handle_unknown: str,
    dated: bool = True,
    name: str = "new_item_attributes",
    stacklevel: int = 2,
) -> ItemTable:
    """Check the attribute rows of new items and their launch dates; encode them.

    Parameters
    ----------
    attributes : pandas.DataFrame
        One row per new item: ``id_col`` and the attribute columns of ``schema`` (plus,
        optionally, a ``launch_date`` column).
    launch_date : date-like, sequence, mapping or None
        See :func:`~workbench.coldstart.inputs.resolve_launch_dates`.
    schema : AttributeSchema
        The attribute columns and levels learnt in ``fit``.
    calendar : Calendar
        The training calendar; launch dates move to the next period on it.
    known_ids : numpy.ndarray
        Ids of the items seen in training.
    id_col : str
        Column of the item ids.
    category : str or None
        Categorical attribute that defines the model groups.
    handle_unknown : {"error", "ignore"}
        What to do with categorical levels unseen in training.
    dated : bool, default=True
        False when launch dates do not matter (analogues, MASE scales): ``launch_date`` is
        ignored and every item launches in period 0.
    name : str, default="new_item_attributes"
        Argument name used in messages.
    stacklevel : int, default=2
        The ``stacklevel`` the caller would give :func:`warnings.warn`.

    Returns
    -------
    ItemTable

    Raises
    ------
    InputError
        On unknown or missing attribute columns, unseen levels (``handle_unknown="error"``),
        duplicated items or missing launch dates.

    Warns
    -----
    UserWarning
        When a new item already has history in training.
    """
    attrs = check_frame(attributes, name=name)
    schema.check(attrs, name=name, handle_unknown=handle_unknown)
    refuse_all_unseen(attrs, schema, name=name, id_col=id_col)
    encode = {"schema": schema, "id_col": id_col, "category": category}
    if not dated:
        return encode_items(
            attrs.reset_index(drop=True), np.zeros(len(attrs), dtype=np.int64), **encode
        )
    dates = resolve_launch_dates(attrs, launch_date, id_col=id_col)
    launch = calendar.index(dates)
    known = attrs[id_col].astype(str).isin(set(known_ids))
    if known.any():
        warnings.warn(
            f"{int(known.sum())} item(s) in {name} already have history in training (e.g. "
            f"{attrs.loc[known.to_numpy(), id_col].astype(str).tolist()[:3]}); they are "
            "forecast as new, ignoring that history. Use update() to use their sales.",
            UserWarning,
            stacklevel=stacklevel + 1,
        )
    return encode_items(attrs.reset_index(drop=True), launch, **encode)
