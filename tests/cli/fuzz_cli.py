#!/usr/bin/env python3
"""Fuzzing the amflow command line from its contract.

A deterministic generator (fixed seed) builds command lines from every command and option with
malformed and edge-case values, and problem files from mutated valid ones. Each run must:
  - end by itself (no hang: a time limit per run) and not by a signal (no crash);
  - exit 0, 1, 2, or 3 (verify only);
  - exit 2 (bad input): exactly one line on stderr, "amflow: invalid input: FIELD = VALUE: ...",
    at most 1100 bytes, printable, and nothing left at --output (no file, no temporary);
  - exit 1 (runtime failure): one line "amflow: error: ..." and nothing left at --output;
  - exit 0: the output exists and parses in its format, with no NaN or infinity among its numbers.
Usage: fuzz_cli.py AMFLOW [--cases N] [--seed S]
"""
import argparse
import csv
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

NAMES = ["orthogonal", "pair", "zipf-orthogonal", "underparameterized", "large-memory", "mixed"]
EDGE = ["", "0", "-0", "-1", "1", "2", "1e3", "1e-3", "1/3", "-1/3", "1/0", "0/0", "nan", "NaN",
        "inf", "-inf", "1e999", "-1e999", "1e-999", "1e-400", "1e100001", "abc", "1.5", "+3",
        " 7 ", "0x10", "18446744073709551616", "9223372036854775807", "-9223372036854775808",
        "1e18", "1,2", "1..2", "--", "-", "é", "\u2212" + "1", "1" * 3000, "9" * 40, "3e-2"]
LISTS = ["list:1,2", "list:", "list:1,,2", "linspace:0:1:3", "linspace:1:0:2", "logspace:-1:1:3",
         "logspace:-1000:1000:2", "linspace:0:1", "linspace:0:1:0", "linspace:0:1:2.5",
         "linspace:0:1:1000001", "cubespace:0:1:2", "1,0.5", "0,1,2", "logspace:0:0.5:3",
         "list:1e-400", "list:nan", "list:1/0"]
FORMATS = ["table", "csv", "json", "jsonl", "md", "latex", "", "xml", "JSON"]
SAFE_STEPS = ["1", "3", "10", "1e1", "0", "-5", "", "abc", "1.5", "18446744073709551616",
              "1e16", "99999999999999999999"]


def pick(rng, pool):
    return pool[rng.randrange(len(pool))]


def value(rng):
    return pick(rng, EDGE) if rng.random() < 0.8 else pick(rng, LISTS)


class Generator:
    def __init__(self, rng, work, amflow):
        self.rng = rng
        self.work = work
        self.bases = [subprocess.run([amflow, "problem", "show", n], capture_output=True,
                                     check=True).stdout.decode() for n in NAMES]
        self.count = 0

    def problem_file(self):
        """A mutated problem file (or a path that is not one)."""
        rng = self.rng
        self.count += 1
        path = os.path.join(self.work, "problems", f"p{self.count}.json")
        choice = rng.random()
        if choice < 0.05:
            return os.path.join(self.work, "missing.json")
        if choice < 0.08:
            return self.work  # a directory
        text = pick(rng, self.bases)
        if rng.random() < 0.4:
            doc = json.loads(text)
            key = pick(rng, ["tokens", "classes", "dim", "inputs", "outputs", "frequencies",
                             "target", "init", "name", "extra"])
            doc[key] = pick(rng, [0, -1, 2, 3, 100001, "2", None, True, [], {}, 1.5, "1e999",
                                  {"kind": "sphere", "seed": -1}, {"kind": "zipf", "exponent": 1e6},
                                  {"kind": "explicit", "p": ["1e-400", 1]},
                                  {"kind": "explicit", "rows": [["1e200", 0], [0, "1e200"]]},
                                  {"kind": "gaussian", "seed": 3, "scale": "1e308"}])
            text = json.dumps(doc)
        data = bytearray(text.encode())
        for _ in range(rng.randrange(0, 4)):
            at = rng.randrange(len(data) + 1)
            op = rng.randrange(5)
            if op == 0 and data:
                del data[at:at + rng.randrange(1, 8)]
            elif op == 1:
                data[at:at] = bytes([pick(rng, list(b'{}[],:"\\09-e. \n\x00\x01\xff'))])
            elif op == 2:
                data[at:at] = b"[" * rng.randrange(1, 300)
            elif op == 3 and data:
                start = rng.randrange(len(data))
                data[at:at] = data[start:start + rng.randrange(1, 40)]
            else:
                data += pick(rng, [b"\x00", b" x", b"{}"])
        with open(path, "wb") as f:
            f.write(bytes(data))
        return path

    def source(self):
        rng = self.rng
        r = rng.random()
        if r < 0.45:
            return ["--problem", pick(rng, NAMES)]
        if r < 0.5:
            return ["--problem", pick(rng, ["nope", "", "pair ", "PAIR"])]
        if r < 0.55:
            return []
        if r < 0.58:
            return ["--problem", "pair", self.problem_file()]
        return [self.problem_file()]

    def options(self, table):
        """A few options from `table` (flag -> value generator), some given bad values."""
        rng = self.rng
        out = []
        for flag, make in table:
            if rng.random() < 0.35:
                v = make() if rng.random() < 0.7 else value(rng)
                if flag == "--digits" and v == "1e3":
                    v = "1e2"  # 1000 digits is valid but slow: not a case for a quick fuzz
                out += [flag, v]
        return out

    def command(self):
        rng = self.rng
        common = [("--digits", lambda: pick(rng, ["15", "18", "33", "30", "50", "9", "10001",
                                                   "abc", "", "1e2", "16"])),
                  ("--format", lambda: pick(rng, FORMATS))]
        kind = rng.randrange(13)
        if kind == 12:
            # limits: any problem (files included); digits kept moderate.
            return ["limits"] + self.source() + self.options([
                ("--digits", lambda: pick(rng, ["15", "18", "33", "30", "50", "x", ""])),
                ("--format", lambda: pick(rng, FORMATS))])
        if kind == 11:
            # scaling: small sizes and few steps (its cost is N times the steps).
            return ["scaling"] + self.options([
                ("--digits", lambda: pick(rng, ["15", "30", "x"])),
                ("--format", lambda: pick(rng, FORMATS)),
                ("--rules", lambda: pick(rng, ["gd", "sign,adam", "gd,momentum", "normalized",
                                               "lion", "", "gd,,sign"])),
                ("--sizes", lambda: pick(rng, ["list:2,5,10", "list:10", "list:1", "list:5,3",
                                               "list:2.5", "linspace:2:20:3", "list:1e9"])),
                ("--eta", lambda: pick(rng, ["0.5", "1", "0", "-1", "1e308", "nan"])),
                ("--target", lambda: pick(rng, ["0.1", "0.5", "0", "1e-300", "10"])),
                ("--zipf", lambda: pick(rng, ["1", "0", "-1", "2"])),
                ("--momentum", lambda: pick(rng, ["0.5", "1"])),
                ("--beta1", lambda: pick(rng, ["0.5", "1"])),
                ("--max-steps", lambda: pick(rng, ["1000", "0", "-1", "5"])),
                ("--threads", lambda: pick(rng, ["0", "1", "-1"]))]) + ["--max-steps", "20000"]
        if kind == 0:
            sub = pick(rng, ["show", "check", "list", "shw", ""])
            args = ["problem", sub] if sub else ["problem"]
            if sub == "show":
                args += [pick(rng, NAMES + ["nope"])]
                if rng.random() < 0.3:
                    args.append("--resolved")
            elif sub == "check":
                args += self.source() + self.options([("--eta", lambda: value(rng))])
            return args + self.options(common)
        if kind == 1:
            return ["flow"] + self.source() + self.options(common + [
                ("--t-end", lambda: pick(rng, ["1", "10", "1e12", "0.5", "1e300"])),
                ("--times", lambda: pick(rng, LISTS)),
                ("--stepper", lambda: pick(rng, ["auto", "taylor", "rk4", "dopri5", "rkf78",
                                                 "bulirsch-stoer", "euler"])),
                ("--tol", lambda: pick(rng, ["1e-8", "1e-12", "1e-30", "0", "-1", "1"])),
                ("--rel-tol", lambda: pick(rng, ["1e-8", "0"])),
                ("--abs-tol", lambda: pick(rng, ["1e-8", "0"])),
                ("--time", lambda: pick(rng, ["auto", "log", "linear", "cubic"])),
                ("--step", lambda: pick(rng, ["1/100", "0.1", "0", "1e-30"])),
                ("--max-steps", lambda: pick(rng, ["5", "1000", "0", "-1"])),
                ("--error-estimate", lambda: pick(rng, ["rerun", "none", "yes"])),
                ("--modified-eta", lambda: pick(rng, ["0.5", "0", "-1", "1e300"])),
                ("--rule", lambda: pick(rng, ["gd", "momentum", "nesterov", "sign", "lion"])),
                ("--momentum", lambda: pick(rng, ["0.5", "0", "1", "-1", "0.999999"]))])
        if kind == 2:
            return ["gd"] + self.source() + self.gd_options(common)
        if kind == 3:
            args = ["compare"] + self.source() + self.options(common + [
                ("--etas", lambda: pick(rng, ["list:1/2,1/4", "list:1", "1,0.5", "list:0",
                                              "list:1e-9", "linspace:0.1:1:3"])),
                ("--t-end", lambda: pick(rng, ["1", "2", "0", "-1", "1e-3"])),
                ("--against", lambda: pick(rng, ["flow", "modified", "both", "euler"])),
                ("--stepper", lambda: pick(rng, ["auto", "rk4", "taylor", "dopri5"])),
                ("--tol", lambda: pick(rng, ["1e-8", "0", "1e-40"])),
                ("--threads", lambda: pick(rng, ["0", "1", "-1"])),
                ("--rule", lambda: pick(rng, ["gd", "momentum", "nesterov", "adam"])),
                ("--momentum", lambda: pick(rng, ["0.5", "1", "x"]))])
            # Valid but long: dopri5 (order 5) at a precision's default tolerance beyond double
            # takes minutes (float128 at 1e-29: two rows in 5 min); keep it to double.
            if "dopri5" in args and "--digits" in args and \
                    args[args.index("--digits") + 1] != "15":
                args[args.index("dopri5")] = "taylor"
            return args
        if kind == 4:
            grids = []
            for _ in range(rng.randrange(0, 3)):
                name = pick(rng, ["eta", "alpha", "p0", "p0_logit", "inputs.alpha", "beta1",
                                  "momentum",
                                  "frequencies.p[0]", "frequencies.p[9]", "init.seed",
                                  "inputs.seed", "tokens", "frequences", "frequencies.p[99999999999999999999]",
                                  "target.modulus", "", "eta=eta"])
                grids += ["--grid", name + "=" + pick(rng, ["list:1,2", "list:0.5", "linspace:0.1:0.9:3",
                                                           "logspace:-1:1:3", "list:1.5", "list:-1",
                                                           "linspace:0:1", ""])]
            return ["sweep"] + self.source() + grids + self.options(common + [
                ("--eta", lambda: pick(rng, ["1", "0.5", "0", "1e308"])),
                ("--steps", lambda: pick(rng, SAFE_STEPS)),
                ("--batch", lambda: pick(rng, ["0", "2", "-1"])),
                ("--rule", lambda: pick(rng, ["gd", "momentum", "adam", "sign", "lion"])),
                ("--momentum", lambda: pick(rng, ["0.5", "1"])),
                ("--threads", lambda: pick(rng, ["0", "1", "2", "-1", "2000"])),
                ("--shard", lambda: pick(rng, ["1/2", "2/2", "1/1", "0/1", "3/2", "x", "1/",
                                               "1/1000000001", "-1/2"]))])
        if kind == 5:
            args = ["verify"]
            for _ in range(rng.randrange(0, 3)):
                args += ["--claim", pick(rng, ["one-step-exact", "pair-one-step",
                                               "pair-initial-velocity", "nope", ""])]
            if rng.random() < 0.3:
                args.append("--list")
            if not any(a == "--claim" for a in args) and "--list" not in args:
                args += ["--claim", "pair-one-step"]  # the whole suite is not a fuzz case
            return args + self.options([("--digits", lambda: pick(rng, ["50", "60", "30", "x"])),
                                        ("--format", lambda: pick(rng, FORMATS)),
                                        ("--threads", lambda: pick(rng, ["0", "1", "-1"]))])
        if kind == 8:
            # enclose: quick problems only (its cost grows like (N M)^2 per step).
            source = (["--problem", pick(rng, ["pair", "orthogonal", "underparameterized", "nope"])]
                      if rng.random() < 0.9 else self.source())
            args = ["enclose"] + source + self.options([
                ("--digits", lambda: pick(rng, ["10", "15", "30", "9", "abc", "", "10001"])),
                ("--format", lambda: pick(rng, FORMATS)),
                ("--t-end", lambda: pick(rng, ["1", "1e15", "0", "-1", "1e300", "1e301", "1/3"])),
                ("--times", lambda: pick(rng, LISTS)),
                ("--max-steps", lambda: pick(rng, ["5", "1000", "0", "-1"]))])
            if "--digits" not in args:
                args += ["--digits", "12"]
            if rng.random() < 0.3:
                args.append("--crossings")
            return args
        if kind == 9:
            # landscape: two-class problems with d = 2 only; the rest must be refused.
            source = (["--problem", pick(rng, ["pair", "underparameterized", "orthogonal", "nope"])]
                      if rng.random() < 0.8 else self.source())
            args = ["landscape"] + source + self.options([
                ("--digits", lambda: pick(rng, ["15", "18", "30", "9", "abc", ""])),
                ("--format", lambda: pick(rng, FORMATS)),
                ("--gamma0", lambda: pick(rng, LISTS + ["linspace:-1e7:1e7:3", "list:1e6"])),
                ("--gamma1", lambda: pick(rng, LISTS + ["linspace:-10:10:2002"]))])
            if rng.random() < 0.3:
                args.append("--sharpness")
            return args
        if kind == 6:
            return [pick(rng, ["frobnicate", "", "-x", "--help", "--version", "gd2", "FLOW"])]
        if kind == 7:
            return [pick(rng, ["flow", "gd", "sweep", "compare"]), "--problem", "pair",
                    pick(rng, ["--bogus", "--eta", "-e", "--digits=", "--format=csv", "extra"])]
        return ["gd"] + self.source() + self.gd_options(common)

    def gd_options(self, common):
        rng = self.rng
        args = self.options(common + [
            ("--eta", lambda: pick(rng, ["1", "10", "0.5", "1e14", "1e308", "1e-400"])),
            ("--steps", lambda: pick(rng, SAFE_STEPS)),
            ("--batch", lambda: pick(rng, ["0", "1", "16", "-1", "1e9"])),
            ("--seed", lambda: pick(rng, ["0", "7", "-1", "18446744073709551615"])),
            ("--seeds", lambda: pick(rng, ["1", "3", "0", "9223372036854775807"])),
            ("--threads", lambda: pick(rng, ["0", "1", "2", "-1", "5000", "1000"])),
            ("--every", lambda: pick(rng, ["1", "2", "0", "1e20"])),
            ("--space", lambda: pick(rng, ["particle", "weights", "dual", "auto"])),
            ("--rule", lambda: pick(rng, ["gd", "momentum", "nesterov", "normalized", "sign",
                                          "rescaled", "adam", "lion", ""])),
            ("--momentum", lambda: pick(rng, ["0.9", "0", "1", "-0.5", "nan"])),
            ("--beta1", lambda: pick(rng, ["0.9", "0", "1", "2"])),
            ("--beta2", lambda: pick(rng, ["0.999", "0", "1e-400"])),
            ("--epsilon", lambda: pick(rng, ["1e-8", "0", "-1", "inf"])),
            ("--bias-correction", lambda: pick(rng, ["on", "off", "yes"])),
            ("--param", lambda: pick(rng, ["full", "factorised:2", "factorised:0",
                                           "factorised:x", "lowrank"])),
            ("--factor-scale", lambda: pick(rng, ["0.1", "0", "-1", "1e400"])),
            ("--factor-seed", lambda: pick(rng, ["0", "5", "-1"])),
            ("--factor-init", lambda: pick(rng, ["/nonexistent.json", "", "/dev/null"])),
            ("--layer-norm-epsilon", lambda: pick(rng, ["1e-5", "0", "-1", "inf"]))])
        if rng.random() < 0.15:
            args.append("--layer-norm")
        if rng.random() < 0.2:
            args.append("--sharpness")
        if rng.random() < 0.2:
            args.append("--weights")
        if rng.random() < 0.1:
            args.append("--balanced")
        # Valid but long: a large batch on many steps; keep the work of a case small.
        if "--batch" in args and "1e9" in args:
            args += ["--steps", "1"]
        return args


def parse_output(text, fmt):
    """Parses an output in its format; returns the numbers it holds (as strings)."""
    if fmt == "json":
        doc = json.loads(text)
        cells = []
        if isinstance(doc, dict) and "rows" in doc:
            for row in doc["rows"]:
                cells += [v for v in row.values() if isinstance(v, (int, float))]
        return [str(c) for c in cells]
    lines = [l for l in text.splitlines() if not l.startswith("#") and not l.startswith("%")
             and not l.startswith("<!--")]
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO("\n".join(lines))))
        return [c for r in rows[1:] for c in r]
    return " ".join(lines).replace("|", " ").replace("&", " ").replace("$", " ").split()


def check(amflow, args, work, out_dir, timeout, codes):
    """Runs one case; returns "" or why it broke the contract (and counts its exit code)."""
    fmt = None
    for i, a in enumerate(args):
        if a == "--format" and i + 1 < len(args):
            fmt = args[i + 1]
    use_output = not any(a == "--output" for a in args) and args and args[0] not in (
        "--help", "--version")
    out = os.path.join(out_dir, "out")
    full = [amflow] + args + (["--output", out] if use_output else [])
    try:
        r = subprocess.run(full, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"did not end within {timeout} s"
    codes[r.returncode] = codes.get(r.returncode, 0) + 1
    left = sorted(os.listdir(out_dir))
    err = r.stderr.decode("utf-8", "replace")
    lines = [l for l in err.split("\n") if l]
    if r.returncode < 0:
        return f"killed by signal {-r.returncode}: {err[-300:]}"
    if r.returncode not in (0, 1, 2, 3) or (r.returncode == 3 and args[:1] != ["verify"]):
        return f"exit code {r.returncode}: {err[-300:]}"
    if r.returncode in (1, 2):
        want = "amflow: invalid input: " if r.returncode == 2 else "amflow: error: "
        if len(lines) != 1:
            return f"exit {r.returncode} with {len(lines)} stderr lines: {err[:300]!r}"
        if not lines[0].startswith(want):
            return f"exit {r.returncode}: unexpected message {lines[0][:200]!r}"
        if r.returncode == 2 and " = " not in lines[0]:
            return f"exit 2 without FIELD = VALUE: {lines[0][:200]!r}"
        if len(r.stderr) > 1100:
            return f"a {len(r.stderr)}-byte message"
        if any(c < 0x20 and c != 0x0a for c in r.stderr) or b"\x7f" in r.stderr:
            return f"a control character on stderr: {r.stderr[:200]!r}"
        if left:
            return f"exit {r.returncode} left {left} behind"
        return ""
    if r.returncode == 0 and use_output and args[0] != "--help":
        if left != ["out"]:
            return f"exit 0 but the folder holds {left}"
        text = open(out, "rb").read().decode("utf-8")
        if fmt is None:
            fmt = "json" if args[:2] in (["problem", "show"], ["problem", "check"]) else "csv"
        try:
            numbers = parse_output(text, fmt)
        except Exception as e:  # noqa: BLE001 - any parse error breaks the contract
            return f"exit 0 but the {fmt} output does not parse: {e}"
        bad = [n for n in numbers if n.lower().lstrip("-") in ("nan", "inf", "infinity")]
        if bad:
            return f"exit 0 with non-finite numbers {bad[:3]}"
        os.remove(out)
    return ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("amflow")
    ap.add_argument("--cases", type=int, default=2500)
    ap.add_argument("--seed", type=int, default=20261129)
    ap.add_argument("--timeout", type=float, default=60)
    a = ap.parse_args()
    amflow = os.path.abspath(a.amflow)
    work = tempfile.mkdtemp(prefix="amflow_fuzz_")
    failures = []
    codes = {}
    try:
        os.mkdir(os.path.join(work, "problems"))
        out_dir = os.path.join(work, "out")
        os.mkdir(out_dir)
        gen = Generator(random.Random(a.seed), work, amflow)
        for case in range(a.cases):
            args = gen.command()
            why = check(amflow, args, work, out_dir, a.timeout, codes)
            for f in os.listdir(out_dir):
                os.remove(os.path.join(out_dir, f))
            if why:
                failures.append(f"case {case}: amflow {' '.join(repr(x) for x in args)[:400]}: {why}")
                if len(failures) >= 10:
                    break
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for f in failures:
        print("FAIL:", f)
    print(f"fuzz: {a.cases} cases, exit codes {dict(sorted(codes.items()))}, "
          f"{len(failures)} broke the contract")
    # The generator must reach both sides of the contract, not only refusals.
    if not failures and (codes.get(0, 0) < a.cases // 10 or codes.get(2, 0) < a.cases // 3):
        print("FAIL: the cases are lopsided: too few successes or refusals to test the contract")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
