"""Checking and encoding the inputs of the cold-start forecaster: sales history, attributes, dates.

Everything here runs at the public boundary and raises :mod:`workbench.core.errors` with a message
that says what to fix; the models downstream get clean integer calendars and numeric matrices.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import numbers
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from workbench.coldstart.columns import (
    attribute_kind,
    check_quantities,
    numeric_values,
    refuse_numbers_as_dates,
)
from workbench.core.errors import InputError, InputTypeError
from workbench.core.params import check_timestamp
from workbench.core.validation import check_columns

__all__ = ["AttributeSchema", "Calendar"]

MISSING = "<missing>"
LAUNCH_COL = "launch_date"


def check_frame(obj: Any, *, name: str) -> pd.DataFrame:
    """Require a non-empty pandas DataFrame."""
    if not isinstance(obj, pd.DataFrame):
        raise InputTypeError(f"{name} must be a pandas DataFrame, got {type(obj).__name__}.")
    if len(obj) == 0:
        raise InputError(f"{name} is empty; pass at least one row.")
    return obj


def to_dates(values: Any, *, name: str) -> pd.DatetimeIndex:
    """Parse dates, refusing numbers, missing or unparsable values."""
    refuse_numbers_as_dates(values, name=name)
    try:
        out = pd.DatetimeIndex(pd.to_datetime(values))
    except (TypeError, ValueError, OverflowError) as exc:
        raise InputError(f"{name} holds values that are not dates ({exc}).") from None
    if out.tz is not None:
        out = out.tz_localize(None)
    if out.isna().any():
        raise InputError(f"{name} has {int(out.isna().sum())} missing date(s); fill or drop them.")
    return out.normalize()


@dataclasses.dataclass(frozen=True)
class Calendar:
    """A regular calendar (daily, weekly or monthly) mapping dates to integer period numbers.

    Attributes
    ----------
    kind : {"D", "W", "MS", "ME"}
        Day, week, month-start or month-end periods.
    start : pandas.Timestamp
        Date of period 0.
    """

    kind: str
    start: pd.Timestamp

    @property
    def season_length(self) -> int:
        """Periods per yearly (weekly for daily data) cycle."""
        return {"D": 7, "W": 52}.get(self.kind, 12)

    @classmethod
    def infer(cls, dates: pd.DatetimeIndex, freq: str | None) -> Calendar:
        """Build the calendar of ``dates`` from ``freq`` or, when ``None``, from their spacing."""
        start = dates.min()
        if freq is not None:
            kind = _kind_of(freq)
        else:
            uniq = np.unique(dates.to_numpy())
            if len(uniq) < 2:
                raise InputError(
                    "Cannot infer the frequency from a single date; pass freq='W' (or 'D', 'MS')."
                )
            step = int(np.median(np.diff(uniq).astype("timedelta64[D]").astype(int)))
            if step == 1:
                kind = "D"
            elif step == 7:
                kind = "W"
            elif 28 <= step <= 31:
                kind = "MS" if (dates.day == 1).all() else "ME"
            else:
                raise InputError(
                    f"Dates are {step} days apart; only daily, weekly and monthly data are "
                    "supported. Resample the history first."
                )
        cal = cls(kind, start)
        cal.index(dates, exact=True, name="history dates")
        return cal

    def index(
        self, dates: pd.DatetimeIndex, *, exact: bool = False, name: str = "dates"
    ) -> np.ndarray:
        """Period number of each date; off-grid dates raise (``exact``) or move to the next one."""
        if self.kind in ("D", "W"):
            step = 1 if self.kind == "D" else 7
            days = (dates - self.start).days.to_numpy().astype(np.int64)
            off = days % step
            if exact and off.any():
                bad = dates[off != 0][:3].strftime("%Y-%m-%d").tolist()
                raise InputError(
                    f"{name} are not on one {'daily' if step == 1 else 'weekly'} grid "
                    f"starting {self.start.date()} (e.g. {bad}); align every date to the same "
                    "weekday."
                )
            return -((-days) // step)
        months = (dates.year - self.start.year) * 12 + (dates.month - self.start.month)
        months = np.asarray(months, dtype=np.int64)
        if self.kind == "MS":
            on_grid = np.asarray(dates.day == 1)
            if exact and not on_grid.all():
                raise InputError(f"{name} must all be month starts (day 1) for monthly data.")
            return months + (~on_grid).astype(np.int64)
        on_grid = np.asarray(dates.is_month_end)
        if exact and not on_grid.all():
            raise InputError(f"{name} must all be month ends for monthly data.")
        return months

    def dates(self, index: np.ndarray) -> pd.DatetimeIndex:
        """Dates of period numbers ``index``."""
        idx = np.asarray(index, dtype=np.int64)
        if self.kind in ("D", "W"):
            step = 1 if self.kind == "D" else 7
            return pd.DatetimeIndex(self.start + pd.to_timedelta(idx * step, unit="D"))
        total = self.start.year * 12 + (self.start.month - 1) + idx
        first = pd.to_datetime({"year": total // 12, "month": total % 12 + 1, "day": 1})
        out = pd.DatetimeIndex(first)
        return out + pd.offsets.MonthEnd(0) if self.kind == "ME" else out


def _kind_of(freq: Any) -> str:
    if not isinstance(freq, str):
        raise InputTypeError(f"freq must be a string such as 'W', got {freq!r}.")
    try:
        off = pd.tseries.frequencies.to_offset(freq)
    except ValueError:
        raise InputError(
            f"freq {freq!r} is not a pandas frequency; use 'D', 'W' or 'MS'."
        ) from None
    if off.n != 1:
        raise InputError(f"freq {freq!r} has a multiple; only single periods are supported.")
    if isinstance(off, pd.offsets.Week):
        return "W"
    if isinstance(off, pd.offsets.Day):
        return "D"
    if isinstance(off, pd.offsets.MonthBegin):
        return "MS"
    if isinstance(off, pd.offsets.MonthEnd):
        return "ME"
    raise InputError(f"freq {freq!r} is not supported; use 'D', 'W', 'MS' or 'ME'.")


def check_history(
    history: Any,
    *,
    id_col: str,
    date_col: str,
    target_col: str,
    name: str = "history",
    missing: str = "raise",
) -> pd.DataFrame:
    """Validate long-format sales and return columns ``item``, ``date``, ``y`` sorted by item/date.

    Raises on wrong types, missing columns, missing/unparsable dates, negative quantities, NaN
    quantities (unless ``missing="zero"``, which counts them as zero sales) and duplicated
    (item, date) pairs.
    """
    frame = check_frame(history, name=name)
    check_columns(frame.columns, [id_col, date_col, target_col], what=name)
    if frame[id_col].isna().any():
        raise InputError(f"{name}[{id_col!r}] has missing item ids; drop those rows.")
    dates = to_dates(frame[date_col], name=f"{name}[{date_col!r}]")
    y = check_quantities(frame[target_col], name=f"{name}[{target_col!r}]", missing=missing)
    if (y < 0).any():
        bad = frame.loc[y < 0, id_col].astype(str).unique()[:3].tolist()
        raise InputError(
            f"{name}[{target_col!r}] has {int((y < 0).sum())} negative quantity(ies) (items "
            f"{bad}); returns or corrections must be netted out before forecasting demand."
        )
    out = pd.DataFrame({"item": frame[id_col].astype(str).to_numpy(), "date": dates, "y": y})
    dup = out.duplicated(["item", "date"])
    if dup.any():
        first = out.loc[dup].iloc[0]
        raise InputError(
            f"{name} has {int(dup.sum())} duplicated (item, date) row(s), e.g. "
            f"({first['item']!r}, {first['date'].date()}); aggregate them first."
        )
    return out.sort_values(["item", "date"], kind="stable").reset_index(drop=True)


def check_gaps(frame: pd.DataFrame, t: np.ndarray, *, missing: str, name: str) -> pd.DataFrame:
    """Find items whose periods are not consecutive; raise, or fill the gaps with zeros."""
    item = frame["item"].to_numpy()
    same = item[1:] == item[:-1]
    gap = same & (np.diff(t) != 1)
    if not gap.any():
        return frame.assign(t=t)
    if missing == "raise":
        first = int(np.argmax(gap))
        raise InputError(
            f"{name} has {int(gap.sum())} gap(s) in the dates of some items, e.g. item "
            f"{item[first]!r} after {frame['date'].iloc[first].date()}; add the missing periods "
            "with quantity 0 or pass missing='zero'."
        )
    codes, uniq = pd.factorize(item)
    starts = np.full(len(uniq), np.iinfo(np.int64).max)
    ends = np.full(len(uniq), np.iinfo(np.int64).min)
    np.minimum.at(starts, codes, t)
    np.maximum.at(ends, codes, t)
    lens = ends - starts + 1
    full_item = np.repeat(np.arange(len(uniq)), lens)
    full_t = np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens) + starts[full_item]
    y = np.zeros(len(full_t))
    offsets = np.cumsum(lens) - lens
    y[offsets[codes] + (t - starts[codes])] = frame["y"].to_numpy()
    return pd.DataFrame({"item": uniq[full_item], "t": full_t, "y": y})


@dataclasses.dataclass
class AttributeSchema:
    """Which attribute columns a forecaster was fitted on, their kinds and categorical levels.

    Attributes
    ----------
    id_col : str
    numeric : list of str
    categorical : list of str
    levels : dict of str to list of str
        Known levels of each categorical column.
    medians : dict of str to float
        Training medians used to impute missing numeric values.
    means, stds : dict of str to float
        Training moments used to standardize numeric columns for distances.
    """

    id_col: str
    numeric: list[str]
    categorical: list[str]
    levels: dict[str, list[str]]
    medians: dict[str, float]
    means: dict[str, float]
    stds: dict[str, float]

    @property
    def columns(self) -> list[str]:
        """All attribute columns, numeric first."""
        return [*self.numeric, *self.categorical]

    @classmethod
    def learn(cls, attributes: pd.DataFrame, id_col: str) -> AttributeSchema:
        """Read column kinds and levels from the attribute table of the known items."""
        cols = [c for c in attributes.columns if c not in (id_col, LAUNCH_COL)]
        if not cols:
            raise InputError(
                "attributes has no attribute columns besides the item id; add e.g. category, price."
            )
        numeric, categorical, levels = [], [], {}
        medians, means, stds = {}, {}, {}
        for c in cols:
            s = attributes[c]
            kind = attribute_kind(s, name=f"attributes[{c!r}]")
            if kind == "missing" and pd.api.types.is_numeric_dtype(s.dtype):
                raise InputError(f"attributes[{c!r}] is entirely missing; drop the column.")
            if kind == "numeric":
                v = numeric_values(s, name=f"attributes[{c!r}]")
                numeric.append(str(c))
                medians[str(c)] = float(np.nanmedian(v))
                means[str(c)] = float(np.nanmean(v))
                sd = float(np.nanstd(v))
                # A spread below 1e-30 is a constant column measured in rounding noise; dividing
                # by it would push attribute distances past the float range.
                stds[str(c)] = sd if sd > 1e-30 else 1.0
            else:
                categorical.append(str(c))
                levels[str(c)] = sorted(_as_levels(s).unique().tolist())
        return cls(id_col, numeric, categorical, levels, medians, means, stds)

    def check(self, attributes: pd.DataFrame, *, name: str, handle_unknown: str) -> pd.DataFrame:
        """Require exactly the fitted columns, and known levels unless ``handle_unknown`` allows."""
        check_columns(attributes.columns, [self.id_col], what=name)
        have = [c for c in attributes.columns if c not in (self.id_col, LAUNCH_COL)]
        extra = [c for c in have if c not in self.columns]
        if extra:
            raise InputError(
                f"{name} has attribute column(s) {extra} the forecaster was not fitted on; it "
                f"knows {self.columns}. Drop them or refit with them."
            )
        check_columns(attributes.columns, self.columns, what=name)
        if attributes[self.id_col].isna().any():
            raise InputError(f"{name}[{self.id_col!r}] has missing item ids.")
        if attributes[self.id_col].astype(str).duplicated().any():
            dup = attributes[self.id_col][attributes[self.id_col].astype(str).duplicated()]
            raise InputError(
                f"{name} lists item(s) {dup.astype(str).tolist()[:3]} more than once; "
                "keep one attribute row per item."
            )
        for c in self.numeric:
            if attribute_kind(attributes[c], name=f"{name}[{c!r}]") == "categorical":
                raise InputTypeError(
                    f"{name}[{c!r}] must be numeric like in training, got text or booleans."
                )
            numeric_values(attributes[c], name=f"{name}[{c!r}]")
        if handle_unknown == "error":
            for c in self.categorical:
                vals = _as_levels(attributes[c])
                unseen = sorted(set(vals) - set(self.levels[c]))
                if unseen:
                    raise InputError(
                        f"{name}[{c!r}] has level(s) {unseen[:5]} unseen in training (known: "
                        f"{self.levels[c][:10]}). Map them to a known level, or build the "
                        "forecaster with handle_unknown='ignore' to treat them as missing."
                    )
        return attributes

    def numeric_matrix(self, attributes: pd.DataFrame) -> np.ndarray:
        """Raw numeric attributes (NaN kept) of shape (n, n_numeric)."""
        if not self.numeric:
            return np.zeros((len(attributes), 0))
        return np.column_stack([pd.to_numeric(attributes[c]).to_numpy(float) for c in self.numeric])

    def codes(self, attributes: pd.DataFrame) -> np.ndarray:
        """Integer codes of the categorical attributes, ``-1`` for unseen levels."""
        if not self.categorical:
            return np.zeros((len(attributes), 0), dtype=np.int64)
        cols = []
        for c in self.categorical:
            lut = {v: i for i, v in enumerate(self.levels[c])}
            cols.append(_as_levels(attributes[c]).map(lut).fillna(-1).to_numpy(np.int64))
        return np.column_stack(cols)

    def distance_matrix(self, attributes: pd.DataFrame, category: str | None) -> np.ndarray:
        """Standardized numeric columns plus one-hot levels, the space of analogue distances.

        A mismatch in one categorical attribute adds 1 to the squared distance; in the category
        column it adds 4, so analogues come from the product's own category first.
        """
        num = self.numeric_matrix(attributes)
        parts = []
        for j, c in enumerate(self.numeric):
            v = np.where(np.isnan(num[:, j]), self.medians[c], num[:, j])
            parts.append(((v - self.means[c]) / self.stds[c])[:, None])
        codes = self.codes(attributes)
        for j, c in enumerate(self.categorical):
            w = 2.0 if c == category else 1.0
            onehot = np.zeros((len(attributes), len(self.levels[c])))
            ok = codes[:, j] >= 0
            onehot[np.nonzero(ok)[0], codes[ok, j]] = w / np.sqrt(2.0)
            parts.append(onehot)
        return np.hstack(parts) if parts else np.zeros((len(attributes), 1))


def _as_levels(s: pd.Series) -> pd.Series:
    return s.astype(object).where(s.notna(), MISSING).astype(str)


def resolve_launch_dates(
    attributes: pd.DataFrame, launch_date: Any, *, id_col: str
) -> pd.DatetimeIndex:
    """Launch date of each attribute row from ``launch_date`` or a ``launch_date`` column."""
    n = len(attributes)
    if launch_date is None:
        if LAUNCH_COL not in attributes.columns:
            raise InputError(
                "Pass launch_date (one date, one per item, or a mapping item -> date) or add a "
                f"{LAUNCH_COL!r} column to the attributes."
            )
        return to_dates(attributes[LAUNCH_COL], name=f"attributes[{LAUNCH_COL!r}]")
    if isinstance(launch_date, Mapping | pd.Series) and not (
        isinstance(launch_date, pd.Series)
        and len(launch_date) == n
        and launch_date.index.equals(attributes.index)
    ):
        lookup = pd.Series(launch_date)
        lookup.index = lookup.index.astype(str)
        ids = attributes[id_col].astype(str)
        missing = sorted(set(ids) - set(lookup.index))
        if missing:
            raise InputError(f"launch_date has no date for item(s) {missing[:5]}.")
        return to_dates(lookup.loc[ids.to_numpy()].to_numpy(), name="launch_date")
    if (
        isinstance(launch_date, str | bytes | dt.date | np.datetime64 | numbers.Number)
        or np.isscalar(launch_date)
        or not isinstance(launch_date, Iterable)
    ):
        if not isinstance(launch_date, str):
            launch_date = check_timestamp(launch_date, name="launch_date")
        one = to_dates([launch_date], name="launch_date")
        return pd.DatetimeIndex(np.repeat(one.to_numpy(), n))
    values = list(launch_date)
    if len(values) != n:
        raise InputError(
            f"launch_date has {len(values)} dates but there are {n} new items; pass one per item."
        )
    return to_dates(values, name="launch_date")
