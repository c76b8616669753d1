"""Panel: forecast new products from the user's sales and item attributes, beside their analogues.

Two :class:`~workbench.ui.DataPicker` choose the sales table (one row per item and period) and
the item-attributes table (one row per item); the demo launches are one choice among the user's
DataFrames, uploads, workspace tables and queries. Items of the attributes table without sales
are the new items forecast; the forecast table is offered to save or download.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import ipywidgets as widgets
import pandas as pd

from workbench.coldstart import (
    BASELINES,
    METHODS,
    Analogues,
    BacktestResult,
    ColdStartForecaster,
    Forecast,
    LaunchData,
    backtest,
    make_launches,
)
from workbench.core.errors import InputError, InputTypeError, WorkbenchError
from workbench.core.params import check_random_state
from workbench.core.sources import open_source
from workbench.core.tabular import kind_of
from workbench.ui.base import ToolPanel
from workbench.ui.data_picker import DataPicker

__all__ = ["ColdStartPanel"]

DEMO = "make_launches: 300 products, 104 weeks"
_STYLE = {"description_width": "110px"}
_ITEM_NAMES = ("item_id", "item", "product_id", "product", "sku", "id")
_DATE_NAMES = ("date", "week", "period", "day", "month", "time", "ts")
_QUANTITY_NAMES = ("quantity", "qty", "units", "sales", "demand", "volume", "y")
_TABLE_TYPES = "a LaunchData or a sales table (DataFrame, Arrow table, DuckDB relation, path, SQL)"


def source_kinds(picker: DataPicker) -> dict[str, str]:
    """Column name → kind (``"integer"``, ``"text"``, ``"date"``...) of the picker's source.

    Empty when nothing readable is chosen; the picker shows why.
    """
    try:
        source, con = picker.raw_source()
        src = open_source(source, con=con)
        return dict(zip(src.columns, (kind_of(t) for t in src.relation.types), strict=True))
    except WorkbenchError:
        return {}


def guess_column(
    kinds: dict[str, str], names: tuple[str, ...], accept: tuple[str, ...], *, any_name: bool = True
) -> str | None:
    """The first column of a kind accepted named like ``names`` (exactly, then as a part).

    Else, with ``any_name``, the first column of a kind accepted.
    """
    for test in (lambda c, n: c.lower() == n, lambda c, n: n in c.lower().split("_")):
        for n in names:
            hit = next((c for c in kinds if test(c, n) and kinds[c] in accept), None)
            if hit is not None:
                return hit
    return next((c for c in kinds if kinds[c] in accept), None) if any_name else None


def choose(dropdown: widgets.Dropdown, options: list, wanted: Any) -> None:
    """New options; keep the current value if still offered, else ``wanted`` (or nothing).

    ``options`` are values or ``(label, value)`` pairs.
    """
    values = [o[1] if isinstance(o, tuple) else o for o in options]
    value = dropdown.value if dropdown.value in values else wanted
    dropdown.options = options
    dropdown.value = value if value in values else None


class ColdStartPanel(ToolPanel):
    """Widgets over :class:`~workbench.coldstart.ColdStartForecaster`, on the user's tables.

    Parameters
    ----------
    data : LaunchData, DataFrame, Arrow table, DuckDB relation, path or str, optional
        Sales history (item, date, quantity per row) or a :class:`LaunchData` (its ``history``
        and ``attributes``). By default the demo (:func:`make_launches`, 300 products over 104
        weeks) is preselected.
    attributes : DataFrame, Arrow table, DuckDB relation, path or str, optional
        One row per item: its id and the attribute columns. Rows of items without sales are the
        new items forecast.
    target : str, optional
        Quantity column of the sales table (default guessed from the names).
    id, time : str, optional
        Item id and date columns of the sales table (default guessed).
    workspace : Workspace, optional
        Where tables and queries are read and results saved; default the shared one.
    namespace : mapping, optional
        Where DataFrame variables are found; default the notebook's.
    random_state : int, default=0
        Seed of the demo data and of the models.

    Raises
    ------
    InputTypeError
        If ``data`` is no table or ``random_state`` not an integer seed.

    Attributes
    ----------
    data_picker, attributes_picker : DataPicker
        The sales and attributes tables; ``item_column``, ``date_column`` and
        ``quantity_column`` name the sales table's columns, the attributes picker's
        ``features`` the attribute columns.
    items : ipywidgets.ToggleButtons
        ``"new"``: the items of the attributes table without sales; ``"described"``: the one
        product described by :attr:`attribute_widgets` (id ``"NEW"``).
    attribute_widgets : dict of str to ipywidgets.Widget
        One input per attribute column (dropdowns for categorical, number boxes for numeric).
    forecast_button : ipywidgets.Button
        The main action (:attr:`main_button`).
    backtest_button : ipywidgets.Button
    result : Forecast or None
        The last forecast.
    forecasts_ : pandas.DataFrame or None
        Its table as offered (``coldstart_forecasts``): the user's item id column, ``date``,
        ``age`` (periods since launch), ``forecast``, ``lower`` and ``upper`` (outer quantiles).
    analogues_ : Analogues or None
        The analogues of the last forecast items.
    backtest_ : BacktestResult or None
        The last backtest.
    """

    def __init__(
        self,
        data: Any = None,
        *,
        attributes: Any = None,
        target: str | None = None,
        id: str | None = None,
        time: str | None = None,
        workspace: Any = None,
        namespace: Any = None,
        random_state: int = 0,
    ) -> None:
        import duckdb
        import pyarrow as pa

        tables = (LaunchData, pd.DataFrame, pa.Table, duckdb.DuckDBPyRelation, str, os.PathLike)
        if data is not None and not isinstance(data, tables):
            raise InputTypeError(f"data must be {_TABLE_TYPES}, got {type(data).__name__}.")
        random_state = check_random_state(random_state)
        super().__init__(
            "Cold-start forecasting",
            "Forecast products that have never sold from their attributes and their analogues.",
        )
        launches = isinstance(data, LaunchData)
        if launches:
            attributes = data.attributes if attributes is None else attributes
            data = data.history
        self.random_state = random_state
        self.workspace = workspace
        self._demo_data: LaunchData | None = None
        self._auto_launch: Any = None
        self._models: dict[tuple, ColdStartForecaster] = {}
        self._attr_frame: pd.DataFrame | None = None
        self.result: Forecast | None = None
        self.forecasts_: pd.DataFrame | None = None
        self.analogues_: Analogues | None = None
        self.backtest_: BacktestResult | None = None
        self._wanted = {"item": id, "date": time, "quantity": target}

        shared = {"namespace": namespace, "workspace": workspace}
        self.data_picker = DataPicker(data, demos={DEMO: lambda: self._demo().history}, **shared)
        self.attributes_picker = DataPicker(
            attributes, demos={DEMO: lambda: self._demo().attributes}, **shared
        )
        if data is not None and attributes is None:
            self.attributes_picker.source.value = "variable"
        for picker in (self.data_picker, self.attributes_picker):
            picker.target.layout.display = "none"
        self.data_picker.features.layout.display = "none"
        self.attributes_picker.features.description = "Attributes"
        self.item_column = widgets.Dropdown(description="item column", style=_STYLE)
        self.date_column = widgets.Dropdown(description="date column", style=_STYLE)
        self.quantity_column = widgets.Dropdown(description="quantity column", style=_STYLE)
        self.category = widgets.Dropdown(description="category", style=_STYLE)
        self._given_items = "new" if data is not None and not launches else "described"
        self.items = widgets.ToggleButtons(
            options=[("Items without sales", "new"), ("Product described", "described")],
            value=self._given_items,
            description="forecast",
            style=_STYLE,
        )
        self.attribute_widgets: dict[str, widgets.Widget] = {}
        self.attribute_box = widgets.VBox()
        self.method = widgets.Dropdown(
            options=[*METHODS, *BASELINES], value="ensemble", description="method"
        )
        self.interval = widgets.Dropdown(
            options=[("equal tails", "equal_tails"), ("shortest", "shortest")],
            value="equal_tails", description="intervals",
        )
        self.horizon = widgets.IntSlider(value=26, min=1, max=104, description="horizon")
        self.launch_date = widgets.DatePicker(description="launch")
        self.n_analogues = widgets.IntSlider(value=5, min=1, max=20, description="analogues")
        self.forecast_button = self.set_main_button(widgets.Button(description="Forecast"))
        self.backtest_button = widgets.Button(description="Run backtest")
        self.forecast_button.on_click(lambda _: self.forecast())
        self.backtest_button.on_click(lambda _: self.run_backtest())
        self.data_picker.source.observe(self._follow_sales, names="value")
        self.data_picker.on_change(self._on_sales)
        self.attributes_picker.on_change(self._on_attributes)
        self.attributes_picker.features.observe(
            lambda _c: self._build_attribute_widgets(), names="value"
        )
        self.items.observe(lambda _c: self._build_attribute_widgets(), names="value")
        self._on_sales()
        self._on_attributes()
        sales_tab = [self.data_picker, widgets.HBox([self.item_column, self.date_column])]
        tabs = widgets.Tab(
            [widgets.VBox([*sales_tab, self.quantity_column]), self.attributes_picker],
            titles=("Sales", "Item attributes"),
        )
        settings = [self.category, self.method, self.interval, self.horizon, self.launch_date,
                    self.n_analogues]
        self.controls.children = [
            tabs,
            self.items,
            widgets.HBox([self.attribute_box, widgets.VBox(settings)]),
            widgets.HBox([self.forecast_button, self.backtest_button]),
        ]

    # --- tables and columns ----------------------------------------------------------------
    def _demo(self) -> LaunchData:
        if self._demo_data is None:
            self._demo_data = make_launches(300, 104, random_state=self.random_state)
        return self._demo_data

    def _follow_sales(self, change: dict[str, Any]) -> None:
        # The demo's sales go with the demo's attributes, and "Your data" with yours. The demo
        # has no item without sales: there the described product is forecast.
        new = change["new"]
        if new in ("demo", "given") and new in [
            v for _, v in self.attributes_picker.source.options
        ]:
            self.attributes_picker.source.value = new
        given = self._given_items if new == "given" else "new"
        self.items.value = "described" if new == "demo" else given

    def _on_sales(self) -> None:
        kinds = source_kinds(self.data_picker)
        cols = list(kinds)
        w = self._wanted
        item = w["item"] or guess_column(kinds, _ITEM_NAMES, ("text", "integer"))
        date = w["date"] or guess_column(kinds, _DATE_NAMES, ("date",))
        date = date or guess_column(kinds, _DATE_NAMES, ("text",), any_name=False)
        rest = {c: k for c, k in kinds.items() if c not in (item, date)}
        qty = w["quantity"] or guess_column(rest, _QUANTITY_NAMES, ("integer", "number"))
        choose(self.item_column, cols, item)
        choose(self.date_column, cols, date)
        choose(self.quantity_column, cols, qty)
        if cols:
            self._on_dates()

    def _on_dates(self) -> None:
        # Default launch: a week after the last sale, unless the user picked a date herself.
        col = self.date_column.value
        if col is None or self.launch_date.value not in (None, self._auto_launch):
            return
        try:
            source, con = self.data_picker.raw_source()
            rel = open_source(source, con=con).relation
            last = pd.Timestamp(rel.aggregate(f'max("{col}")').fetchall()[0][0])
        except Exception:  # only a default: a column that is no date just leaves it empty
            return
        if not pd.isna(last):
            self._auto_launch = (last + pd.Timedelta(days=7)).date()
            self.launch_date.value = self._auto_launch

    def _on_attributes(self) -> None:
        kinds = source_kinds(self.attributes_picker)
        try:
            frame = self.attributes_picker.load(target=None, features=None).frame
        except WorkbenchError:
            frame = None
        self._attr_frame = frame
        cats = [
            c for c in self.attributes_picker.features.options if kinds.get(c) in ("text", "bool")
        ]
        choose(self.category, [("(none)", None), *[(c, c) for c in cats]], None)
        if "category" in cats:
            self.category.value = "category"
        elif self.category.value is None and cats:
            self.category.value = cats[0]
        self._build_attribute_widgets()

    def attribute_columns(self) -> list[str]:
        """The attribute columns chosen (the item column left out)."""
        return [c for c in self.attributes_picker.features.value if c != self.item_column.value]

    def _build_attribute_widgets(self) -> None:
        self.attribute_widgets = {}
        frame = self._attr_frame
        for col in self.attribute_columns():
            if frame is None or col not in frame.columns:
                continue
            s = frame[col].dropna()
            if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
                w: widgets.Widget = widgets.FloatText(
                    value=float(s.median()) if len(s) else 0.0, description=col
                )
            else:
                levels = sorted(s.astype(str).unique().tolist()) or [""]
                w = widgets.Dropdown(options=levels, value=levels[0], description=col)
            self.attribute_widgets[col] = w
        shown = self.items.value == "described"
        self.attribute_box.children = list(self.attribute_widgets.values()) if shown else []

    def load_tables(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, Any]]:
        """Read and check the picked tables (a :class:`WorkbenchError` says what is wrong).

        Returns
        -------
        history, known, new : pandas.DataFrame
            Sales rows (item, date, quantity), attribute rows of the items with sales and of
            those without (plus ``launch_date`` if the attributes table has a date column).
        columns : dict
            ``item``, ``date``, ``quantity`` and ``ids`` (item id as text → the user's value).
        """
        item, date, qty = (
            c.value for c in (self.item_column, self.date_column, self.quantity_column)
        )
        if not (item and date and qty):
            raise InputError(
                "Choose the item, date and quantity columns of the sales table (tab Sales)."
            )
        sales = self.data_picker.load(target=qty, task="regression", features=[item], time=date)
        if sales.sampled:
            raise InputError(
                f"The sales table has {sales.n_source_rows:,} rows, more than fit in memory; "
                "select fewer items or periods with a SQL query."
            )
        kinds = source_kinds(self.attributes_picker)
        if not kinds:
            self.attributes_picker.load()  # raises the picker's reason
        dates = [c for c, k in kinds.items() if k == "date"]
        table = self.attributes_picker.load(
            target=None,
            id=item if item in kinds else None,
            time=dates[0] if dates else None,
            features=self.attribute_columns() or None,
        )
        if table.id is None:
            raise InputError(
                f"The attributes table has no column {item!r} (nor another unique id column); "
                "it needs one row per item with the sales table's item ids."
            )
        frame = table.frame.rename(columns={table.id: item, table.time: "launch_date"})
        frame = frame[[item, *table.features] + (["launch_date"] if table.time else [])]
        sold = frame[item].astype(str).isin(set(sales.frame[item].astype(str))).to_numpy()
        cols = {
            "item": item,
            "date": date,
            "quantity": qty,
            "ids": dict(zip(frame[item].astype(str), frame[item], strict=True)),
        }
        known = frame[sold].drop(columns="launch_date", errors="ignore").reset_index(drop=True)
        new = frame[~sold].reset_index(drop=True)
        return sales.frame[[item, date, qty]], known, new, cols

    def _model(self, method: str, history: pd.DataFrame, known: pd.DataFrame, cols: dict) -> Any:
        data_key = (
            int(pd.util.hash_pandas_object(history, index=False).sum()),
            int(pd.util.hash_pandas_object(known.astype(str), index=False).sum()),
            tuple(known.columns),
        )
        key = (method, self.category.value, self.interval.value, cols["item"], cols["date"],
               cols["quantity"], data_key)
        if key not in self._models:
            if len(self._models) > 8:
                self._models.clear()
            self._models[key] = self._forecaster(method, cols).fit(history, known)
        return self._models[key]

    def _forecaster(self, method: str, cols: dict) -> ColdStartForecaster:
        names = {"id_col": cols["item"], "date_col": cols["date"], "target_col": cols["quantity"]}
        return ColdStartForecaster(
            method, category=self.category.value, interval=self.interval.value,
            random_state=self.random_state, **names,
        )

    def new_item(self, item_column: str = "item_id") -> pd.DataFrame:
        """The product described by the widgets, as a one-row attribute table (id ``"NEW"``)."""
        row: dict[str, Any] = {item_column: "NEW"}
        for col, w in self.attribute_widgets.items():
            row[col] = w.value
        return pd.DataFrame([row])

    # --- actions -----------------------------------------------------------------------------
    def forecast(self) -> Forecast | None:
        """Fit (once per method and data) and forecast the new items; show them and analogues.

        Returns
        -------
        Forecast or None
            ``None`` when the input was wrong; the message is then shown in the panel.
        """

        def work() -> tuple[Forecast, Analogues, pd.DataFrame]:
            history, known, new, cols = self.load_tables()
            launch = self.launch_date.value
            if self.items.value == "described":
                new = self.new_item(cols["item"])
            elif new.empty:
                raise InputError(
                    "Every item of the attributes table has sales, so none is new. Add attribute "
                    "rows for the new products, or choose 'Product described'."
                )
            dates = new.pop("launch_date") if "launch_date" in new.columns else None
            if launch is None and (dates is None or dates.isna().any()):
                raise InputError(
                    "launch_date is empty: pick the product's launch in the date picker."
                )
            ids = new[cols["item"]].astype(str)
            when = dict(zip(ids, [launch] * len(new) if dates is None else dates, strict=True))
            when = {k: launch if pd.isna(v) else v for k, v in when.items()}
            model = self._model(self.method.value, history, known, cols)
            fc = model.predict(new, self.horizon.value, launch_date=when)
            an = model.analogues(new, n_neighbors=self.n_analogues.value)
            f = fc.to_frame()
            bands = [c for c in f.columns if c.startswith("q")]
            table = pd.DataFrame(
                {
                    cols["item"]: f["item_id"].map(lambda v: cols["ids"].get(v, v)).infer_objects(),
                    "date": f["date"],
                    "age": f["age"],
                    "forecast": f["forecast"],
                    "lower": f[bands[0]],
                    "upper": f[bands[-1]],
                }
            )
            return fc, an, table

        out = self.run(work, busy="Fitting and forecasting…")
        if out is None:
            return None
        forecast, analogues, table = out
        self.result, self.analogues_, self.forecasts_ = forecast, analogues, table
        self.show(
            forecast,
            plots=[forecast.plot, functools.partial(analogues.plot, max_age=self.horizon.value)],
            also=[analogues],
            figsize=(11, 3.6),
        )
        self.offer(table, "coldstart_forecasts", tool="coldstart", workspace=self.workspace)
        return forecast

    def run_backtest(self) -> BacktestResult | None:
        """Score every method on the known products held out as new (time-origin scheme).

        Returns
        -------
        BacktestResult or None
        """

        def work() -> BacktestResult:
            history, known, _new, cols = self.load_tables()
            template = self._forecaster("ensemble", cols)
            return backtest(
                history,
                known,
                horizon=min(self.horizon.value, 26),
                forecaster=template,
                random_state=self.random_state,
            )

        out = self.run(work, busy="Backtesting every method…")
        if out is None:
            return None
        self.backtest_ = out
        self.show(out)
        return out

    def __repr__(self) -> str:
        frame = self._attr_frame
        return f"ColdStartPanel(items={'?' if frame is None else len(frame)})"
