"""Check a .deb's Depends against the system libraries its bundled ELF files really link.

    python packaging/linux/check_depends.py PACKAGE_ROOT_OR_DEB [--json]
    python packaging/linux/check_depends.py PACKAGE_ROOT --list   # only print the packages found

For every ELF file in the package (the PyInstaller bundle under opt/gradlab), each DT_NEEDED library
that the bundle does not ship itself is resolved with ldd on this machine and mapped to its Debian
package with `dpkg -S`. The exit status is 1 if such a package is missing from the control file's
Depends, or if a needed library is not found at all (then this machine lacks it, so the mapping
cannot be checked). Libraries that Qt loads with dlopen() are invisible here; depends.txt lists
them by hand (libgl1, libegl1, libdbus-1-3 ...).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

# Always present on Debian/Ubuntu (Essential: yes or part of libc6 itself).
IMPLICIT = {"libc6"}


def is_elf(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def needed(path: Path) -> list[str]:
    out = subprocess.run(["objdump", "-p", str(path)], capture_output=True, text=True).stdout
    return re.findall(r"^\s*NEEDED\s+(\S+)", out, re.M)


def ldd_map(path: Path, env: dict[str, str]) -> dict[str, str | None]:
    out = subprocess.run(["ldd", str(path)], capture_output=True, text=True, env=env).stdout
    resolved: dict[str, str | None] = {}
    for line in out.splitlines():
        m = re.match(r"\s*(\S+)\s+=>\s+(not found|\S+)", line)
        if m:
            resolved[m.group(1)] = None if m.group(2) == "not found" else m.group(2)
    return resolved


def package_of(lib_path: str) -> str | None:
    candidates = {lib_path, os.path.realpath(lib_path)}
    for p in list(candidates):  # merged /usr: dpkg may know the file under either name
        if p.startswith("/usr/lib/"):
            candidates.add(p[len("/usr") :])
        elif p.startswith("/lib/"):
            candidates.add("/usr" + p)
    for p in candidates:
        res = subprocess.run(["dpkg", "-S", p], capture_output=True, text=True)
        if res.returncode == 0:
            return res.stdout.split(":", 1)[0].split(",")[0].strip()
    return None


def control_depends(control: str) -> set[str]:
    m = re.search(r"^Depends:\s*(.*(?:\n[ \t].*)*)", control, re.M)
    names = set()
    if m:
        for alternative in m.group(1).replace("\n", " ").split(","):
            for item in alternative.split("|"):
                names.add(item.strip().split(" ")[0].split("(")[0])
    return names


def check(root: Path) -> dict:
    elves = [p for p in root.rglob("*") if p.is_file() and not p.is_symlink() and is_elf(p)]
    bundled = {p.name for p in elves} | {p.name for p in root.rglob("*.so*") if p.is_symlink()}
    lib_dirs = sorted({str(p.parent) for p in elves if ".so" in p.name})
    env = dict(os.environ, LD_LIBRARY_PATH=":".join(lib_dirs))

    system: dict[str, dict] = {}  # soname -> {"path", "package", "needed_by"}
    for elf in elves:
        # The dynamic loader is part of libc6 and ldd shows it without "=>".
        external = [n for n in needed(elf) if n not in bundled and not n.startswith("ld-linux")]
        if not external:
            continue
        resolved = ldd_map(elf, env)
        for name in external:
            entry = system.setdefault(name, {"path": resolved.get(name), "needed_by": []})
            entry["needed_by"].append(str(elf.relative_to(root)))
    for entry in system.values():
        entry["package"] = package_of(entry["path"]) if entry["path"] else None

    control = root / "DEBIAN" / "control"
    depends = control_depends(control.read_text()) if control.exists() else set()
    missing_pkgs = sorted({e["package"] for e in system.values() if e["package"]} - depends - IMPLICIT)
    not_found = sorted(n for n, e in system.items() if e["path"] is None)
    unknown = sorted(n for n, e in system.items() if e["path"] and e["package"] is None)
    return {
        "libraries": {
            n: {k: v if k != "needed_by" else v[:3] for k, v in e.items()} for n, e in sorted(system.items())
        },
        "packages": sorted({e["package"] for e in system.values() if e["package"]}),
        "depends": sorted(depends),
        "missing_from_depends": missing_pkgs,
        "not_found_on_this_machine": not_found,
        "no_package": unknown,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", type=Path, help="an unpacked package tree or a .deb")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--list", action="store_true", help="print the Debian packages the bundle links, one per line, and exit 0"
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        root = args.package
        if root.is_file():
            root = Path(tmp)
            subprocess.run(["dpkg-deb", "-R", str(args.package), str(root)], check=True)
        report = check(root)

    if args.list:
        print("\n".join(p for p in report["packages"] if p not in IMPLICIT))
        return 0
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for name, entry in report["libraries"].items():
            print(f"  {name:32} {entry['package'] or '?':24} {entry['path'] or 'NOT FOUND'}")
        print("packages linked:      " + ", ".join(report["packages"]))
        if report["missing_from_depends"]:
            print("MISSING from Depends: " + ", ".join(report["missing_from_depends"]))
        if report["not_found_on_this_machine"]:
            print("NOT FOUND here:       " + ", ".join(report["not_found_on_this_machine"]))
        if report["no_package"]:
            print("in no package:        " + ", ".join(report["no_package"]))
    bad = report["missing_from_depends"] or report["not_found_on_this_machine"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
