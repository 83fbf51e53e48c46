"""/metrics read by the Prometheus project's own text-format parser (prometheus_client, Debian's python3-prometheus-client):
every metric in the README's metrics table is exported under its documented type, counters are named *_total, and
every HELP text is words (no .NET type names). Run by run.sh against the running instance, after the client's calls."""
import re
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

base_url, readme = sys.argv[1], sys.argv[2]
text = urllib.request.urlopen(f"{base_url}/metrics").read().decode("utf-8")
# The parser names a counter's family without its _total suffix; its samples keep it.
families = {}
for family in text_string_to_metric_families(text):
    families[family.name + ("_total" if family.type == "counter" else "")] = family
documented = re.findall(r"^\| `([a-z_]+)` \| (counter|gauge|histogram) \|", open(readme, encoding="utf-8").read(), re.M)
assert len(documented) >= 8, "the README lists the metrics"
problems = []
for name, kind in documented:
    family = families.get(name)
    if family is None:
        problems.append(f"{name} is documented but not exported")
        continue
    if family.type != kind:
        problems.append(f"{name} is a {family.type}, documented as a {kind}")
    if kind == "counter" and not name.endswith("_total"):
        problems.append(f"{name} is a counter without _total")
for name, family in families.items():
    if not family.documentation or re.search(r"`|\((Counter|Histogram|Gauge|ObservableGauge)", family.documentation):
        problems.append(f"{name}'s HELP text is not words: {family.documentation!r}")
succeeded = [s.value for s in families["rnnservice_training_jobs_total"].samples if s.labels.get("outcome") == "succeeded"]
if succeeded != [1.0]:
    problems.append(f"rnnservice_training_jobs_total{{outcome=succeeded}} is {succeeded}, not 1 after one trained job")
if problems:
    sys.exit("metrics: " + "; ".join(problems))
print(f"metrics: {len(documented)} documented metrics exported with their types; {len(families)} families, all HELP texts in words")
