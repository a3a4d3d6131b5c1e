"""Small builders over Grafana's Foundation SDK shared by the three dce dashboards.

Every panel reads the Prometheus data source chosen in the ``datasource``
variable, so the JSON imports into any Grafana without editing UIDs.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import (
    bargauge,
    common,
    dashboard,
    prometheus,
    stat,
    table,
    timeseries,
)
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import common as common_models
from grafana_foundation_sdk.models.dashboard import (
    DashboardCursorSync,
    DashboardLinkType,
    DataSourceRef,
    DataTransformerConfig,
    DynamicConfigValue,
    Panel,
    Threshold,
    ThresholdsMode,
    VariableRefresh,
    VariableSort,
)

DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")
# The scrape job of the enforcer (deploy/prometheus/prometheus.yml).
JOB = "dce"
# Outcomes that broke the contract, whether dead-lettered or forwarded in shadow mode.
INVALID = 'outcome=~"invalid|shadow_invalid"'

Query = tuple[str, str]  # PromQL, legend


def _targets(queries: list[Query], instant: bool = False) -> list[prometheus.Dataquery]:
    out = []
    for ref, (expr, legend) in zip("ABCDEFGH", queries, strict=False):
        q = prometheus.Dataquery().expr(expr).legend_format(legend).ref_id(ref)
        q = q.datasource(DATASOURCE)
        out.append(q.instant().format("table") if instant else q.range())  # type: ignore[arg-type]
    return out


def _thresholds(steps: list[tuple[float | None, str]]) -> dashboard.ThresholdsConfig:
    return (
        dashboard.ThresholdsConfig()
        .mode(ThresholdsMode.ABSOLUTE)
        .steps([Threshold(value=v, color=c) for v, c in steps])
    )


Steps = list[tuple[float | None, str]]
GREEN: Steps = [(None, "green")]


def timeseries_panel(
    title: str,
    description: str,
    queries: list[Query],
    unit: str,
    *,
    width: int = 12,
    height: int = 8,
    stack: common_models.StackingMode | None = None,
) -> timeseries.Panel:
    panel = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .targets(_targets(queries))  # type: ignore[arg-type]
        .unit(unit)
        .span(width)
        .height(height)
        .fill_opacity(10)
        .line_width(1)
        .legend(
            common.VizLegendOptions()
            .display_mode(common_models.LegendDisplayMode.TABLE)
            .placement(common_models.LegendPlacement.RIGHT)
            .show_legend(True)
            .calcs(["lastNotNull", "max"])
        )
        .tooltip(common.VizTooltipOptions().mode(common_models.TooltipDisplayMode.MULTI))
    )
    if stack is not None:
        panel = panel.stacking(common.StackingConfig().mode(stack)).fill_opacity(60)
    return panel


def highlight(panel: timeseries.Panel, regexp: str, color: str) -> timeseries.Panel:
    """Series whose name matches ``regexp`` drawn thick, in ``color``: what must stand out."""
    return panel.override_by_regexp(
        regexp,
        [
            DynamicConfigValue(id_val="color", value={"mode": "fixed", "fixedColor": color}),
            DynamicConfigValue(id_val="custom.lineWidth", value=3),
            DynamicConfigValue(id_val="custom.fillOpacity", value=30),
        ],
    )


def dashed(panel: timeseries.Panel, regexp: str) -> timeseries.Panel:
    """SLA thresholds as dashed lines beside the series they bound."""
    return panel.override_by_regexp(
        regexp,
        [
            DynamicConfigValue(id_val="custom.lineStyle", value={"fill": "dash", "dash": [10, 10]}),
            DynamicConfigValue(id_val="custom.fillOpacity", value=0),
            DynamicConfigValue(id_val="color", value={"mode": "fixed", "fixedColor": "red"}),
        ],
    )


def stat_panel(
    title: str,
    description: str,
    query: Query,
    unit: str,
    *,
    thresholds: list[tuple[float | None, str]] | None = None,
    width: int = 4,
    height: int = 4,
    text_mode: common_models.BigValueTextMode = common_models.BigValueTextMode.AUTO,
    no_value: str = "",
) -> stat.Panel:
    panel = (
        stat.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .targets(_targets([query]))  # type: ignore[arg-type]
        .unit(unit)
        .span(width)
        .height(height)
        .thresholds(_thresholds(thresholds or GREEN))
        .color_mode(common_models.BigValueColorMode.BACKGROUND)
        .graph_mode(common_models.BigValueGraphMode.AREA)
        .text_mode(text_mode)
        .reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]))
    )
    if no_value:
        panel = panel.no_value(no_value)
    return panel


def bars_panel(
    title: str, description: str, query: Query, unit: str, *, width: int = 12, height: int = 8
) -> bargauge.Panel:
    """A ranking at the dashboard's end time (instant query), longest bar first."""
    target = prometheus.Dataquery().expr(query[0]).legend_format(query[1]).ref_id("A")
    target = target.datasource(DATASOURCE).instant()
    return (
        bargauge.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .targets([target])
        .unit(unit)
        .span(width)
        .height(height)
        .thresholds(_thresholds([(None, "orange"), (100, "red")]))
        .display_mode(common_models.BarGaugeDisplayMode.GRADIENT)
        .orientation(common_models.VizOrientation.HORIZONTAL)
        .reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
    )


def table_panel(
    title: str,
    description: str,
    queries: list[Query],
    *,
    width: int = 12,
    height: int = 8,
    hide: list[str] | None = None,
) -> table.Panel:
    """Instant queries shown as a table, one row per series, labels as columns."""
    panel = (
        table.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .targets(_targets(queries, instant=True))  # type: ignore[arg-type]
        .span(width)
        .height(height)
    )
    if len(queries) > 1:
        # One row per label set across the queries (e.g. per instance).
        panel = panel.with_transformation(DataTransformerConfig(id_val="merge", options={}))
    excluded = {"Time": True, **{name: True for name in hide or []}}
    return panel.with_transformation(
        DataTransformerConfig(id_val="organize", options={"excludeByName": excluded})
    )


def datasource_variable() -> dashboard.DatasourceVariable:
    return dashboard.DatasourceVariable("datasource").label("Prometheus").type("prometheus")


def query_variable(
    name: str, label: str, query: str, *, multi: bool = False
) -> dashboard.QueryVariable:
    variable = (
        dashboard.QueryVariable(name)
        .label(label)
        .datasource(DATASOURCE)
        .query(query)
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(VariableSort.ALPHABETICAL_ASC)
    )
    if multi:
        variable = variable.multi(True).include_all(True).all_value(".*")
    return variable


def dashboard_links() -> list[dashboard.DashboardLink]:
    """Links to every dce dashboard, keeping time range and variables."""
    return [
        dashboard.DashboardLink("dce")
        .type(DashboardLinkType.DASHBOARDS)
        .tags(["dce"])
        .as_dropdown(True)
        .include_vars(True)
        .keep_time(True)
    ]


class Section:
    """A dashboard row and the panels under it.

    Grafana expects the panels of an expanded row after the row at the top level
    (only collapsed rows nest them), so they are added to the dashboard, not the row.
    """

    def __init__(self, title: str) -> None:
        self.title = title
        self.panels: list[cogbuilder.Builder[Panel]] = []

    def with_panel(self, panel: cogbuilder.Builder[Panel]) -> Section:
        self.panels.append(panel)
        return self

    def add_to(self, board: dashboard.Dashboard) -> dashboard.Dashboard:
        board = board.with_row(dashboard.Row(self.title))
        for panel in self.panels:
            board = board.with_panel(panel)
        return board


def base(uid: str, title: str, description: str) -> dashboard.Dashboard:
    return (
        dashboard.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["dce", "kafka", "data-contracts"])
        .time("now-6h", "now")
        .refresh("30s")
        .timezone("browser")
        .tooltip(DashboardCursorSync.CROSSHAIR)
        .links(dashboard_links())  # type: ignore[arg-type]
        .with_variable(datasource_variable())
    )
