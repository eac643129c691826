"""Rewrites the "## Options of `amflow CMD`" sections of docs/*.md from `amflow CMD --help`, so that
the manual lists every flag with its help text and default (tests/cli/docs_test.py checks that
every flag is there). Usage: /usr/bin/python3 scripts/update-docs-options.py build/amflow"""
import os
import re
import subprocess
import sys

docs = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs")
# command words -> its page in docs/ (merge is documented with the other scale tools, landscape with
# the figures it draws, problem with the problem files); tests/cli/docs_test.py reads this list.
SECTIONS = [
    (["problem", "show"], "problems.md"), (["problem", "check"], "problems.md"),
    (["problem", "list"], "problems.md"), (["flow"], "flow.md"), (["gd"], "gd.md"),
    (["compare"], "compare.md"), (["sweep"], "sweep.md"), (["merge"], "scale.md"),
    (["scaling"], "scaling.md"), (["limits"], "limits.md"), (["verify"], "verify.md"),
    (["enclose"], "enclose.md"), (["landscape"], "figures.md"), (["figures"], "figures.md"),
    (["transformer"], "transformer.md"),
]
amflow = None


def options(words):
    """(flag, default, description) for each option of `amflow WORDS --help`, wide enough that
    CLI11 puts each on one line."""
    env = dict(os.environ, COLUMNS="1000")
    text = subprocess.run([amflow] + words + ["--help"], capture_output=True, text=True,
                          env=env, check=True).stdout
    out, current, in_options = [], None, False
    for line in text.splitlines():
        if line.rstrip() in ("Options:", "OPTIONS:"):
            in_options = True
            continue
        if not line.startswith(" ") and line.strip():
            in_options = False
        if not in_options:
            continue
        m = re.match(r"^  (-[^ ]+)(?: ([A-Z]+(?:=\S*)?)(?: \.\.\.)?)?\s*(.*)$", line)
        if m and line.startswith("  -"):
            flag, typ, desc = m.groups()
            if flag in ("-h,--help",):
                current = None
                continue
            default = typ.split("=", 1)[1] if typ and "=" in typ else None
            desc = desc.strip()
            if desc.startswith("REQUIRED"):
                desc = "(required) " + desc[len("REQUIRED"):].strip()
            current = [flag, default, desc]
            out.append(current)
        elif current and line.startswith("    "):
            current[2] = (current[2] + " " + line.strip()).strip()
    return out


def section(words):
    text = f"## Options of `amflow {' '.join(words)}`\n\n"
    for flag, default, desc in options(words):
        shown = f" (default `{default}`)" if default else ""
        text += f"- `{flag}`{shown}: {desc}\n"
    return text


def main():
    global amflow
    amflow = sys.argv[1]
    pages = {}
    for words, page in SECTIONS:
        pages.setdefault(page, []).append(words)
    for page, commands in pages.items():
        path = os.path.join(docs, page)
        text = open(path).read()
        for words in commands:
            title = f"## Options of `amflow {' '.join(words)}`"
            new = section(words)
            start = text.find(title)
            if start < 0:
                text = text.rstrip("\n") + "\n\n" + new
            else:
                end = text.find("\n## ", start + len(title))
                end = len(text) if end < 0 else end + 1
                text = text[:start] + new + ("\n" if end < len(text) else "") + text[end:]
        open(path, "w").write(text.rstrip("\n") + "\n")


if __name__ == "__main__":
    main()
