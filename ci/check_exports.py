#!/usr/bin/env python3
"""Checks tomskype's exports with tools other than tomskype itself.

Usage: check_exports.py [PATH-TO-TOMSKYPE]   (default: target/debug/tomskype)

* Suricata rules (`tomskype export --format suricata`): every non-comment line parses with
  suricataparser, has a msg, a sid, rev and classtype; no sid is used twice; sids count up from
  the sid base; exporting twice gives the same text (stable sids).
* Zeek Intel file (`tomskype export --format zeek-intel`): the first line is `#fields` with
  the expected columns; every other non-comment line has as many tab-separated fields, none
  empty (Zeek's input framework wants `-` for unset), and an indicator type of the Intel::
  enum.

Exits 1 with one line per failure.
"""

import subprocess
import sys

from suricataparser import parse_rule

INTEL_FIELDS = ["indicator", "indicator_type", "meta.source", "meta.desc", "meta.url"]
# Intel::Type in Zeek's base/frameworks/intel/main.zeek (and files.zeek for the hashes).
INTEL_TYPES = {
    "Intel::ADDR", "Intel::SUBNET", "Intel::URL", "Intel::SOFTWARE", "Intel::EMAIL",
    "Intel::DOMAIN", "Intel::USER_NAME", "Intel::CERT_HASH", "Intel::PUBKEY_HASH",
    "Intel::FILE_HASH", "Intel::FILE_NAME",
}
SID_BASE = 9_700_000


def export(tool, fmt, *extra):
    out = subprocess.run([tool, "export", "--format", fmt, *extra], check=True,
                         capture_output=True, text=True)
    return out.stdout


def check_suricata(text, errors):
    sids = {}
    count = 0
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        count += 1
        try:
            rule = parse_rule(line)
        except Exception as e:  # suricataparser raises on syntax it cannot parse
            errors.append(f"suricata line {n}: does not parse: {e}")
            continue
        if rule is None:
            errors.append(f"suricata line {n}: not a rule")
            continue
        names = [o.name for o in rule.options]
        for need in ("msg", "sid", "rev", "classtype"):
            if need not in names:
                errors.append(f"suricata line {n}: no {need}")
        if rule.sid is None:
            continue
        if rule.sid in sids:
            errors.append(f"suricata line {n}: sid {rule.sid} already used on line {sids[rule.sid]}")
        sids[rule.sid] = n
        if rule.sid != SID_BASE + count - 1:
            errors.append(f"suricata line {n}: sid {rule.sid}, expected {SID_BASE + count - 1}")
    if count == 0:
        errors.append("suricata: no rules")
    return count


def check_intel(text, errors):
    lines = text.splitlines()
    if not lines or lines[0].split("\t") != ["#fields"] + INTEL_FIELDS:
        errors.append("intel line 1: expected #fields with " + " ".join(INTEL_FIELDS))
        return 0
    count = 0
    for n, line in enumerate(lines[1:], 2):
        if line.startswith("#"):
            continue
        count += 1
        fields = line.split("\t")
        if len(fields) != len(INTEL_FIELDS):
            errors.append(f"intel line {n}: {len(fields)} fields, expected {len(INTEL_FIELDS)}")
            continue
        if any(f == "" for f in fields):
            errors.append(f"intel line {n}: an empty field (use -)")
        if fields[1] not in INTEL_TYPES:
            errors.append(f"intel line {n}: {fields[1]} is not an Intel::Type")
    if count == 0:
        errors.append("intel: no indicators")
    return count


def main():
    tool = sys.argv[1] if len(sys.argv) > 1 else "target/debug/tomskype"
    errors = []
    rules = export(tool, "suricata")
    if rules != export(tool, "suricata"):
        errors.append("suricata: two exports of the same set differ")
    n_rules = check_suricata(rules, errors)
    n_intel = check_intel(export(tool, "zeek-intel"), errors)
    for e in errors:
        print(e)
    if errors:
        sys.exit(1)
    print(f"ok: {n_rules} Suricata rules parse with unique sids; {n_intel} Zeek intel items well-formed")


if __name__ == "__main__":
    main()
