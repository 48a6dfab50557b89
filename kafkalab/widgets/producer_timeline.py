"""Chapter 03's widget: move linger.ms and batch.size, watch requests get fewer and fuller — and slower."""

from __future__ import annotations

from kafkalab.producer.experiments import BatchingResult, batching_experiment


def timeline_html(result: BatchingResult, width_px: int = 760) -> str:
    """Each ProduceRequest as a bar on a time axis: its height is the records it carried."""
    span = max(result.simulated_ms, 1)
    bars = []
    for time_ms, broker, records in result.timeline:
        left = int(time_ms / span * (width_px - 8))
        height = min(4 + records * 3, 90)
        color = ["#1565c0", "#2e7d32", "#ef6c00"][broker % 3]
        bars.append(f"<div title='t={time_ms} ms, broker {broker}, {records} records' style='position:absolute;left:{left}px;"
                    f"bottom:0;width:6px;height:{height}px;background:{color}'></div>")
    summary = (
        f"linger.ms={result.linger_ms}, batch.size={result.batch_size}: {result.requests} requests for {result.records} records "
        f"({result.records_per_request:.1f} per request) · latency mean {result.mean_latency_ms:.1f} ms, max {result.max_latency_ms} ms"
    )
    return (
        f"<div style='font-family:monospace'>{summary}</div>"
        f"<div style='position:relative;height:95px;width:{width_px}px;border-bottom:1px solid #555;margin-top:4px'>{''.join(bars)}</div>"
        f"<div style='font-family:monospace;font-size:smaller'>0 ms … {span} ms (simulated) · colour = broker</div>"
    )


def ProducerTimeline(linger_ms: int = 5, batch_size: int = 16384, seed: int = 1):  # noqa: N802 - reads like a class
    """The widget: a linger.ms slider (first) and a batch.size menu over a seeded producer run."""
    import ipywidgets as widgets

    linger = widgets.IntSlider(value=linger_ms, min=0, max=50, description="linger.ms", continuous_update=False,
                               style={"description_width": "initial"})
    size = widgets.Dropdown(options=[1024, 4096, 16384, 65536], value=batch_size, description="batch.size")
    view = widgets.HTML()

    def refresh(_=None) -> None:
        view.value = timeline_html(batching_experiment(linger.value, size.value, seed=seed))

    linger.observe(refresh, names="value")
    size.observe(refresh, names="value")
    refresh()
    return widgets.VBox([linger, size, view])


def storm_html(result) -> str:
    """The partition's log after a retry storm: duplicates in red, records out of order in orange."""
    seen: set[str] = set()
    highest = -1
    cells = []
    for value in result.log:
        number = int(value[1:])
        style = "background:#ffcdd2" if value in seen else ("background:#ffe0b2" if number < highest else "")
        seen.add(value)
        highest = max(highest, number)
        cells.append(f"<span style='padding:1px 3px;margin:1px;border:1px solid #bbb;{style}'>{value}</span>")
    return (
        f"<div style='font-family:monospace'>idempotence={result.idempotent}: {result.acknowledged}/{result.sent} acknowledged, "
        f"{result.in_log} in the log, {result.duplicates} duplicate(s), {result.out_of_order} out of order</div>"
        f"<div style='display:flex;flex-wrap:wrap;font-family:monospace'>{''.join(cells)}</div>"
    )


def RetryStorm(drop_percent: int = 20, seed: int = 0):  # noqa: N802 - reads like a class
    """The widget: a message-loss slider (first) and an idempotence switch over a seeded retry storm."""
    import ipywidgets as widgets

    from kafkalab.producer.experiments import retry_storm

    loss = widgets.IntSlider(value=drop_percent, min=0, max=40, step=5, description="messages lost (%)",
                             continuous_update=False, style={"description_width": "initial"})
    idempotent = widgets.Checkbox(value=False, description="enable.idempotence")
    view = widgets.HTML()

    def refresh(_=None) -> None:
        view.value = storm_html(retry_storm(idempotent.value, drop_rate=loss.value / 100, seed=seed))

    loss.observe(refresh, names="value")
    idempotent.observe(refresh, names="value")
    refresh()
    return widgets.VBox([loss, idempotent, view])
