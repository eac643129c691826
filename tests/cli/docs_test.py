"""The manual against the command: every flag that `amflow CMD --help` lists appears in CMD's page
of docs/, every page the README links exists, the README stays a front page (at most 250 lines),
and the README's example commands run and exit 0. Usage: docs_test.py AMFLOW REPO_ROOT"""
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile

amflow, root = os.path.abspath(sys.argv[1]), sys.argv[2]
docs = os.path.join(root, "docs")
# command -> its page in docs/: the list scripts/update-docs-options.py writes the option lists by.
spec = importlib.util.spec_from_file_location(
    "update_docs_options", os.path.join(root, "scripts", "update-docs-options.py"))
generator = importlib.util.module_from_spec(spec)
spec.loader.exec_module(generator)
pages = {words[0]: page for words, page in generator.SECTIONS}
passed = failed = 0


def check(ok, message):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL:", message)


def flags(words):
    out = subprocess.run([amflow] + words + ["--help"], capture_output=True, text=True)
    check(out.returncode == 0, f"amflow {' '.join(words)} --help: exit {out.returncode}")
    found = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", out.stdout))
    return found - {"--help"}


# Every command of `amflow --help` has a page.
top = subprocess.run([amflow, "--help"], capture_output=True, text=True).stdout
commands = re.findall(r"^  ([a-z]+)\s", top.split("Subcommands:")[-1], re.M)
check(sorted(commands) == sorted(pages), f"commands {commands} against pages {sorted(pages)}")
for command in commands:
    page = os.path.join(docs, pages.get(command, command + ".md"))
    check(os.path.exists(page), f"{command}: no page {page}")
    if not os.path.exists(page):
        continue
    text = open(page).read()
    words = [command]
    if command == "problem":
        names = set()
        for sub in ("show", "check", "list"):
            names |= flags(["problem", sub])
    else:
        names = flags(words)
    for flag in sorted(names):
        check(re.search(re.escape(flag) + r"(?![a-z0-9-])", text) is not None,
              f"{command}: {flag} is not in docs/{pages[command]}")

# The README: a front page, its links alive, its examples runnable.
readme = open(os.path.join(root, "README.md")).read()
check(len(readme.splitlines()) <= 250, f"README.md has {len(readme.splitlines())} lines")
for link in re.findall(r"\]\(([^)#]+)\)", readme):
    if not link.startswith("http"):
        check(os.path.exists(os.path.join(root, link)), f"README links {link}, which is missing")
for page in sorted(os.listdir(docs)):
    if page.endswith(".md"):
        for link in re.findall(r"\]\(([^)#]+)\)", open(os.path.join(docs, page)).read()):
            if not link.startswith("http"):
                check(os.path.exists(os.path.join(docs, link)), f"docs/{page} links {link}")

# The README's examples: the lines of its sh blocks that run ./amflow (from build/), in a scratch
# folder with the binary linked in, each with exit 0 and output.
work = tempfile.mkdtemp()
try:
    os.symlink(amflow, os.path.join(work, "amflow"))
    blocks = re.findall(r"```sh\n(.*?)```", readme, re.S)
    examples = [line.split("#")[0].strip() for block in blocks for line in block.splitlines()]
    examples = [e for e in examples if e.startswith("./amflow ")]
    check(len(examples) >= 10, f"only {len(examples)} examples in the README")
    for example in examples:
        out = subprocess.run(example, shell=True, cwd=work, capture_output=True, text=True,
                             timeout=300, env=dict(os.environ, MPLBACKEND="Agg"))
        check(out.returncode == 0 and (out.stdout or "--output" in example),
              f"README example `{example}`: exit {out.returncode}: {out.stderr[:300]}")
finally:
    shutil.rmtree(work)

print(f"docs: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
