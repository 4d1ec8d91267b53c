"""Adds up JUnit XML reports into per-suite counts and one total line."""

import sys
import xml.etree.ElementTree as ET

totals = {"passed": 0, "failed": 0, "skipped": 0}
for path in sys.argv[1:]:
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.iter("testsuite")
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    for suite in suites:
        for case in suite.iter("testcase"):
            if case.find("failure") is not None or case.find("error") is not None:
                counts["failed"] += 1
            elif case.find("skipped") is not None:
                counts["skipped"] += 1
            else:
                counts["passed"] += 1
    name = path.rsplit("/", 1)[-1].removesuffix(".xml")
    print(f"{name}: {counts['passed']} passed, {counts['failed']} failed, "
          f"{counts['skipped']} skipped")
    for key in totals:
        totals[key] += counts[key]
if sum(totals.values()) == 0:
    print("no test ran")
    sys.exit(1)
print(f"total: {totals['passed']} passed, {totals['failed']} failed, "
      f"{totals['skipped']} skipped")
sys.exit(1 if totals["failed"] else 0)
