"""The end-of-run report: WORK/report.json and a short text table on stdout."""

import json
import os


def check(value, limit, lower_is_better=True, never_reached=False):
    """A target line: the measured value, the target and whether it is met. A None value is
    "missed" when `never_reached` (the condition did not happen in time), else "not measured"."""
    if value is None:
        return {"value": None, "target": limit, "met": False if never_reached else None}
    return {"value": value, "target": limit, "met": value <= limit if lower_is_better else value >= limit}


def write(work, report, as_json=False):
    """Writes WORK/report.json; prints it (as_json) or the text table."""
    path = os.path.join(work, "report.json")
    with open(path, "w") as f:
        json.dump(report, f, indent=2)
    if as_json:
        print(json.dumps(report, indent=2))
        return
    print(f"== {report['scenario']}: {report['nodes']} nodes ({report['work_dir']})")
    for key, value in report["results"].items():
        if isinstance(value, (dict, list)):
            value = json.dumps(value, separators=(",", ":"))
        print(f"  {key:<36} {value}")
    for name, t in report.get("targets", {}).items():
        verdict = {True: "MET", False: "MISSED", None: "not measured"}[t["met"]]
        print(f"  target {name:<29} {t['value']} (target {t['target']}): {verdict}")
    r = report["resources"]
    print(f"  resources: {r.get('nodes_running')} chorusd, RSS avg {r.get('rss_mb_avg')} MB, "
          f"max {r.get('rss_mb_max')} MB, CPU {r.get('cpu_pct_per_node')} % per node, "
          f"{r.get('cpu_pct_all_nodes')} % all nodes, load {r.get('loadavg_1m')}"
          + (f"; relay RSS {r['relay_rss_mb']} MB, CPU {r.get('relay_cpu_pct')} %" if "relay_rss_mb" in r else ""))
    print(f"  report: {path}")
