"""The benchmark's results as JSON, a Markdown table (with the targets) and a PNG chart."""

import json
import shutil
from pathlib import Path


def targets(r):
    """(target, value, met?) for each target of the performance issue."""
    http, pipe, lat = r["http"], r["pipeline"], r["latency"]
    base = http["baseline"]["rps"]
    c8 = http["checkout_8_paused"]
    spread = c8["rps"]
    server_errors = sum(run.get("server_errors", 0) for run in http.values())
    noop = pipe["chosen/noop"]["tasks_per_s"] or 0
    slow = pipe["chosen/stripe+300ms"]["orders_per_s"]
    rss = total(r["rss_after"], "rss")
    pss = total(r["rss_after"], "pss")
    hot = http["hot_sku"]
    return [
        ("checkout ≥ 0.10 × baseline (8 conn., workers paused)", f"{c8['rps'] / base:.3f} ×", c8["rps"] / base >= 0.10),
        ("checkout p95 ≤ 50 ms (8 conn., workers paused)", f"{c8['p95_ms']:.1f} ms", c8["p95_ms"] <= 50),
        ("never a 5xx", f"{server_errors} 5xx", server_errors == 0),
        ("products ≥ 0.5 × baseline", f"{http['products']['rps'] / base:.3f} ×", http["products"]["rps"] / base >= 0.5),
        ("hot SKU ≥ 0.5 × spread SKUs", f"{hot['rps'] / spread:.2f} ×", hot["rps"] / spread >= 0.5),
        ("hot SKU: zero oversell", f"{hot['oversold']['oversold']} oversold, drift {hot['oversold']['drift'] or 'none'}",
         hot["oversold"]["oversold"] == 0 and not hot["oversold"]["negative"] and not hot["oversold"]["drift"]),
        ("pipeline at +300 ms Stripe ≥ 0.04 × no-op rate", f"{slow:.1f}/s = {slow / noop:.3f} × {noop:.0f}/s",
         noop > 0 and slow / noop >= 0.04),
        ("checkout → fulfilled p95 ≤ 2 s at half capacity", f"{lat['p95_s'] or 0:.2f} s",
         lat["p95_s"] is not None and lat["p95_s"] <= 2),
        ("whole shop ≤ 1 GiB RSS (sum of RSS, after the run)", f"{rss / 2**20:.0f} MiB (PSS {pss / 2**20:.0f} MiB)",
         rss <= 2**30),
    ]


def markdown(r):
    m = r["machine"]
    base = r["http"]["baseline"]["rps"]
    lines = [f"Measured {r['date']} on {m['cores']} cores, {m['ram_gib']} GiB RAM ({m['cpu']}), "
             f"wrk runs of {r['seconds_per_run']} s.", "",
             "| HTTP | conn. | req/s | × baseline | p50 ms | p95 ms | p99 ms | 5xx |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, run in r["http"].items():
        lines.append(f"| {name} | {run['connections']} | {run['rps']:.0f} | {run['rps'] / base:.3f} | "
                     f"{run['p50_ms']:.1f} | {run['p95_ms']:.1f} | {run['p99_ms']:.1f} | {run['server_errors']} |")
    lines += ["", "| pipeline (pool / Stripe) | orders | final | seconds | orders/s |", "|---|---:|---:|---:|---:|"]
    for name, run in r["pipeline"].items():
        if name.endswith("/noop"):
            lines.append(f"| {name} (no-op tasks) | {run['tasks']} | | {run['seconds']:.1f} | "
                         f"{run['tasks_per_s']:.0f} tasks/s |")
        else:
            capped = " (stopped)" if run["capped"] else ""
            lines.append(f"| {name} | {run['orders']} | {run['final']} | {run['seconds']:.1f}{capped} | "
                         f"{run['orders_per_s']:.1f} |")
    if "search" in r["http"]:
        lines += ["", search_line(r["http"])]
    lat = r["latency"]
    lines += ["", f"Checkout → fulfilled at {lat['target_rate']:.1f} orders/s (half the chosen pipeline's capacity, "
                  f"Stripe +{lat['stripe_latency_ms']} ms): {lat['fulfilled']} of {lat['orders']} fulfilled, "
                  f"p50 {fmt(lat['p50_s'])} s, p95 {fmt(lat['p95_s'])} s, p99 {fmt(lat['p99_s'])} s.", "",
              "| process | RSS idle (MiB) | RSS after (MiB) | PSS idle (MiB) | PSS after (MiB) |",
              "|---|---:|---:|---:|---:|"]
    idle, after = r["rss_idle"], r["rss_after"]
    for name in sorted(set(idle) | set(after)):
        row = [mib(side.get(name, {}).get(kind, 0)) for kind in ("rss", "pss") for side in (idle, after)]
        lines.append(f"| {name} | " + " | ".join(row) + " |")
    row = [mib(total(side, kind)) for kind in ("rss", "pss") for side in (idle, after)]
    lines.append("| **total** | " + " | ".join(row) + " |")
    lines += ["", "| target | result | met |", "|---|---|:-:|"]
    lines += [f"| {name} | {value} | {'yes' if ok else '**no**'} |" for name, value, ok in targets(r)]
    return "\n".join(lines) + "\n"


def search_line(http):
    """The search runs in one sentence (their rows are in the HTTP table too)."""
    page, api = http["search"], http.get("search_api")
    line = (f"Search over the demo catalog (a different query each request): the results page p95 "
            f"{page['p95_ms']:.1f} ms at {page['rps']:.0f} req/s")
    if api:
        line += f", the API's ?search= p95 {api['p95_ms']:.1f} ms at {api['rps']:.0f} req/s"
    return line + "."


def total(sizes, kind):
    return sum(size[kind] for size in sizes.values())


def mib(value):
    return f"{value / 2**20:.0f}"


def fmt(value):
    return "-" if value is None else f"{value:.2f}"


def chart(r, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5.2), gridspec_kw={"width_ratios": [3, 2]})
    names = list(r["http"])
    rps = [r["http"][n]["rps"] for n in names]
    bars = left.barh(names, rps, color=["#14213d" if n == "baseline" else "#0f6e78" for n in names])
    left.invert_yaxis()
    left.set_xlabel("requests/s (wrk)")
    left.set_title("HTTP, Procfile's gunicorn")
    base = r["http"]["baseline"]["rps"]
    for bar, value in zip(bars, rps):
        left.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {value:.0f} ({value / base:.2f}×)",
                  va="center", fontsize=8)
    left.set_xlim(0, max(rps) * 1.3)
    pipe = [(n, v["orders_per_s"]) for n, v in r["pipeline"].items() if not n.endswith("/noop")]
    bars = right.bar([n.replace("/", "\n") for n, _ in pipe], [v for _, v in pipe], color="#0f6e78")
    for bar, (_, value) in zip(bars, pipe):
        right.text(bar.get_x() + bar.get_width() / 2, bar.get_height(), f"{value:.1f}", ha="center", va="bottom",
                   fontsize=8)
    right.set_ylabel("orders fulfilled per second")
    right.set_title("Pipeline, 1,000 queued orders")
    right.tick_params(axis="x", labelsize=8)
    m = r["machine"]
    fig.suptitle(f"Harbor, {r['date'][:10]}: {m['cores']} cores, {m['ram_gib']} GiB RAM", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(results, out, publish=None):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2, default=str))
    (out / "results.md").write_text(markdown(results))
    chart(results, out / "chart.png")
    if publish:
        publish = Path(publish)
        publish.mkdir(parents=True, exist_ok=True)
        for name in ("results.md", "chart.png"):
            shutil.copy(out / name, publish / name)
