#!/usr/bin/env python3
"""Runs a libFuzzer binary for ctest and, when it finds something, ends its
output with what a reader of a truncated log needs.

CI keeps only the head and the tail of a failing test's output, and a
libFuzzer run prints thousands of progress lines before the report; the
report itself ends with a shadow-memory dump and a legend, which push the
stack trace and the frame description (the variable and line a
stack-use-after-scope concerns) out of the tail. So the fuzzer's output goes
to a log file, and this script prints afterwards: the last progress lines,
then the sanitizer report without the shadow dump and legend, then the
crashing input in base64 when it is small enough to paste (so that a crash
seen only on another machine can be replayed here:
`base64 -d > unit && qaf-import-fuzzer unit`).

Usage: run_fuzzer.py LOG_FILE CRASH_DIR -- FUZZER [ARGS...]
Exits with the fuzzer's status.
"""

import base64
import os
import subprocess
import sys

MAX_PASTED_INPUT_BYTES = 4096


def sanitizer_report(lines):
    """The report's lines from its ERROR line on, minus shadow bytes and
    legend."""
    start = next((i for i, line in enumerate(lines)
                  if "ERROR: AddressSanitizer" in line
                  or "ERROR: libFuzzer" in line
                  or "runtime error:" in line), None)
    if start is None:
        return []
    report = []
    skipping = False
    for line in lines[start:]:
        if line.startswith("Shadow bytes around") or line.startswith(
                "Shadow byte legend"):
            skipping = True
            continue
        if skipping and (line.startswith("  ") or line.startswith("=>")):
            continue
        skipping = False
        report.append(line)
    return report


def main():
    if len(sys.argv) < 5 or sys.argv[3] != "--":
        sys.exit(__doc__)
    log_path, crash_dir, command = sys.argv[1], sys.argv[2], sys.argv[4:]
    before = set(os.listdir(crash_dir)) if os.path.isdir(crash_dir) else set()
    with open(log_path, "w") as log:
        status = subprocess.run(command, stdout=log,
                                stderr=subprocess.STDOUT).returncode
    with open(log_path, errors="replace") as log:
        lines = log.read().splitlines()
    if status == 0:
        print("\n".join(lines[-5:]))
        return 0
    report = sanitizer_report(lines)
    progress = [line for line in lines if line.startswith("#")]
    print("\n".join(progress[-8:]))
    print(f"--- the fuzzer failed (exit {status}); full log: {log_path}")
    print("\n".join(report if report else lines[-60:]))
    after = set(os.listdir(crash_dir)) if os.path.isdir(crash_dir) else set()
    for name in sorted(after - before):
        path = os.path.join(crash_dir, name)
        size = os.path.getsize(path)
        print(f"--- crashing input {path} ({size} bytes)")
        if size <= MAX_PASTED_INPUT_BYTES:
            with open(path, "rb") as unit:
                encoded = base64.b64encode(unit.read()).decode()
            for i in range(0, len(encoded), 100):
                print(encoded[i:i + 100])
    return status


if __name__ == "__main__":
    sys.exit(main())
