"""What every benchmark report says about where it ran."""
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def machine():
    """Core count and CPU model, e.g. "2 cores, AMD EPYC"."""
    model = "cpu"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores, {model}"


def commit():
    """The short hash of the checked-out commit."""
    try:
        return subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


def append_results(path, header, rows):
    """Appends table rows to a results file, writing its header first when
    the file is new."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    new = not os.path.exists(path)
    with open(path, "a") as f:
        if new:
            f.write(header)
        for row in rows:
            f.write(row + "\n")
    print(f"results appended to {path}")
