#!/usr/bin/env python3
"""Writes benchmark figures into docs/performance.md, between <!-- NAME:begin --> and <!-- NAME:end --> lines.

  python3 benchmarks/update_docs.py inprocess           the table of the latest BenchmarkDotNet reports
  bash benchmarks/http.sh | python3 benchmarks/update_docs.py http    the table http.sh prints (UPDATE_DOCS=1 does this)
  ... | python3 benchmarks/update_docs.py training   the table MODE=training bash benchmarks/http.sh prints
  ... | python3 benchmarks/update_docs.py ratio      the table MODE=ratio bash benchmarks/http.sh prints
  python3 benchmarks/update_docs.py median METHOD [--us]  one InferenceBenchmarks median, as reported or in µs (http.sh)

So the published figures are the benchmarks' own output, not retyped by hand.
"""
import csv
import glob
import os
import re
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(REPO, "docs", "performance.md")
RESULTS = os.path.join(REPO, "BenchmarkDotNet.Artifacts", "results")

# (report, method, what it measures): the rows of the in-process table, in order.
IN_PROCESS = [
    ("InferenceBenchmarks", "OneNameTorchSharp", "one name, TorchSharp"),
    ("InferenceBenchmarks", "OneNameFast", "one name, `FastRnn`"),
    ("InferenceBenchmarks", "Batch1000TorchSharp", "1,000 names, TorchSharp (one batched pass)"),
    ("InferenceBenchmarks", "Batch1000Fast", "1,000 names, `FastRnn` (name by name)"),
    ("InferenceBenchmarks", "OneNameFastFirstModel", "one name, `FastRnn`, models/1 (one RNN, characters only)"),
    ("InferenceBenchmarks", "Batch1000FastFirstModel", "1,000 names, `FastRnn`, models/1"),
    ("InferenceBenchmarks", "ExplainOneName", "explain one name (`FastRnn`)"),
    ("SerializationBenchmarks", "JsonReflection", "JSON of one 18-language answer, reflection"),
    ("SerializationBenchmarks", "JsonSourceGenerated", "JSON of one 18-language answer, source-generated"),
    ("TrainingBenchmarks", "EpochDefault", "one training epoch, default configuration (an epoch of each of its four members)"),
    ("TrainingBenchmarks", "EpochFirstRelease", "one training epoch, first release (models/1: one RNN, characters only)"),
    ("TrainingBenchmarks", "EpochReference", "one training epoch, reference configuration"),
]


def report_rows(report):
    paths = glob.glob(os.path.join(RESULTS, f"*.{report}-report.csv"))
    if not paths:
        sys.exit(f"no {report} report in {RESULTS}: run the BenchmarkDotNet suite first")
    with open(paths[0], encoding="utf-8-sig") as file:
        return {row["Method"]: row for row in csv.DictReader(file)}


def in_process_table():
    reports = {}
    lines = ["| benchmark | median | allocated | ratio (baseline of its group = 1.00) |", "|---|---|---|---|"]
    for report, method, label in IN_PROCESS:
        row = reports.setdefault(report, report_rows(report)).get(method)
        if row is None:
            sys.exit(f"{report} has no result for {method}")
        ratio = row.get("Ratio", "") if row.get("Ratio", "?") not in ("?", "") else ""
        lines.append(f"| {label} | {row['Median']} | {row['Allocated']} | {ratio} |")
    training = reports["TrainingBenchmarks"]
    first, reference = (milliseconds(training[method]["Median"]) for method in ("EpochFirstRelease", "EpochReference"))
    lines.append("")
    lines.append(f"Training epoch, one RNN of 128 (first release) ÷ reference configuration: {first:,.0f} ms ÷ {reference:,.0f} ms = "
                 f"**{first / reference:.2f}** (target ≤ 1/3). The default trains four members with both directions and "
                 "n-gram inputs; a whole default run takes about 75 s (docs/model.md).")
    return "\n".join(lines)


def milliseconds(text):
    value, unit = text.replace(",", "").split()
    return float(value) * {"s": 1000, "ms": 1, "us": 1e-3, "μs": 1e-3, "µs": 1e-3}[unit]


def replace_block(name, text):
    with open(DOC, encoding="utf-8") as file:
        doc = file.read()
    pattern = re.compile(rf"(<!-- {name}:begin -->\n).*?(<!-- {name}:end -->)", re.S)
    if not pattern.search(doc):
        sys.exit(f"no <!-- {name}:begin --> ... <!-- {name}:end --> block in {DOC}")
    with open(DOC, "w", encoding="utf-8") as file:
        file.write(pattern.sub(lambda m: m.group(1) + text.strip() + "\n" + m.group(2), doc))


if __name__ == "__main__":
    if sys.argv[1:] == ["inprocess"]:
        replace_block("inprocess", in_process_table())
    elif sys.argv[1:] in (["http"], ["training"], ["ratio"]):
        replace_block(sys.argv[1], sys.stdin.read())
    elif len(sys.argv) in (3, 4) and sys.argv[1] == "median":
        median = report_rows("InferenceBenchmarks")[sys.argv[2]]["Median"]
        print(f"{milliseconds(median) * 1000:.3f}" if sys.argv[3:] == ["--us"] else median)
    else:
        sys.exit(__doc__)
