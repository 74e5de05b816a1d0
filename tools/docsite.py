# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The guides of docs/*.md as the collection's antsibull docsite pages (docs/docsite/rst/*.rst), converted with
pandoc (pypandoc-binary, pinned in requirements-dev.txt). The Markdown files stay the source: edit them and
run `make docs`; `make docs-check` fails when a page is stale.

    python tools/docsite.py           rewrite docs/docsite/rst/*.rst and the guides section of extra-docs.yml
    python tools/docsite.py --check   exit 1, naming the stale files, when they differ

Links between guides become RST references to the pages' labels
(ansible_collections.govsec.banned_software.docsite.<guide>); links to other files of the repository
become links to them on the repository's site (galaxy.yml `repository`).
"""

from __future__ import absolute_import, division, print_function

import difflib
import json
import os
import re
import shutil
import sys
import tempfile

import pypandoc
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs")
RST_DIR = os.path.join(DOCS, "docsite", "rst")
EXTRA_DOCS = os.path.join(DOCS, "docsite", "extra-docs.yml")
LABEL = "ansible_collections.govsec.banned_software.docsite.%s"
# The order of the guides in the docsite (every docs/*.md must be listed).
GUIDES = ["usage", "catalog", "blocking", "windows", "macos", "awx", "performance", "support", "design", "testing"]


def repository():
    with open(os.path.join(ROOT, "galaxy.yml")) as handle:
        return yaml.safe_load(handle)["repository"].rstrip("/")


ANCHOR = re.compile(r"^\.\. _(?P<id>[^:`]+):$", re.M)
REF = re.compile(r":ref:`[^`<]*<(?P<label>[^>`]+)>`")
# A pandoc Lua filter: every heading gets an explicit label "<page label>.<GitHub anchor>" (antsibull-docs
# requires the prefix), links to a guide (or a section of one) become :ref:s to those labels, and links to
# other files of the repository become links to them on the repository's site.
LUA = """
local function label(page, anchor)
  if anchor ~= nil and anchor ~= '' then return LABEL_PREFIX .. page .. '.' .. anchor end
  return LABEL_PREFIX .. page
end

function Header(el)
  local raw = pandoc.RawBlock('rst', '.. _' .. label(GUIDE, el.identifier) .. ':\\n')
  el.identifier = ''
  return {raw, el}
end

function Link(el)
  local target = el.target
  if target:match('^[%a][%w+.-]*:') then return nil end
  local path, anchor = target:match('^([^#]*)#?(.*)$')
  local page = nil
  if path == '' then page = GUIDE
  elseif not path:find('/') and path:match('%.md$') and GUIDES[path:sub(1, -4)] then page = path:sub(1, -4) end
  if page ~= nil then
    local text = pandoc.utils.stringify(el.content):gsub('`', '')
    return pandoc.RawInline('rst', ':ref:`' .. text .. ' <' .. label(page, anchor) .. '>`')
  end
  local repo_path = pandoc.path.normalize(pandoc.path.join({'docs', path}))
  local kind = 'blob'
  if path:match('/$') or not pandoc.path.filename(repo_path):find('%.') then kind = 'tree' end
  el.target = REPO .. '/' .. kind .. '/main/' .. repo_path:gsub('^%./', '')
  -- RST has no markup inside link text
  el.content = {pandoc.Str(pandoc.utils.stringify(el.content))}
  return el
end
"""


def pandoc(guide, filter_dir, repo):
    """The guide as RST."""
    with open(os.path.join(DOCS, guide + ".md")) as handle:
        markdown = handle.read()
    lua = os.path.join(filter_dir, guide + ".lua")
    with open(lua, "w") as handle:
        handle.write("LABEL_PREFIX = %s\nGUIDE = %s\nREPO = %s\nGUIDES = {%s}\n%s" % (
            json.dumps(LABEL % ""), json.dumps(guide), json.dumps(repo),
            ", ".join("[%s] = true" % json.dumps(g) for g in GUIDES), LUA))
    rst = pypandoc.convert_text(markdown, "rst", format="gfm", extra_args=["--wrap=preserve", "--lua-filter", lua])
    # pandoc writes a raw block right above the next one; a label needs a blank line after it
    return re.sub(r"(?m)^(\.\. _[^\n]+:)\n(?=\S)", "\\1\n\n", rst)


def pages(repo):
    filter_dir = tempfile.mkdtemp(prefix="govsec-docsite-")
    try:
        result = {}
        for guide in GUIDES:
            header = (".. Generated from docs/%s.md by tools/docsite.py (make docs); edit the Markdown file.\n\n"
                      ".. _%s:\n\n" % (guide, LABEL % guide))
            result[guide] = header + pandoc(guide, filter_dir, repo)
    finally:
        shutil.rmtree(filter_dir)
    labels = set(label for text in result.values() for label in ANCHOR.findall(text))
    broken = sorted(set("%s: %s" % (guide, m.group("label")) for guide, text in result.items()
                        for m in REF.finditer(text) if m.group("label") not in labels))
    if broken:
        raise ValueError("links to sections that do not exist: %s" % "; ".join(broken))
    return result


def extra_docs():
    """docs/docsite/extra-docs.yml: one section with every guide, in GUIDES order."""
    return ("---\n# Extra documentation of the collection's docsite (antsibull-docs). Generated by tools/docsite.py\n"
            "# (make docs) with the pages of docs/docsite/rst/, which it converts from docs/*.md.\n"
            "sections:\n  - title: Guides\n    toctree:\n" + "".join("      - %s\n" % g for g in GUIDES))


def main(argv):
    missing = sorted(set(f[:-3] for f in os.listdir(DOCS) if f.endswith(".md")) - set(GUIDES))
    if missing:
        sys.stderr.write("tools/docsite.py: docs/%s.md not in GUIDES (add it to the docsite order)\n" % missing[0])
        return 1
    repo = repository()
    wanted = dict((os.path.join(RST_DIR, guide + ".rst"), text) for guide, text in pages(repo).items())
    wanted[EXTRA_DOCS] = extra_docs()
    stale = []
    for path, text in sorted(wanted.items()):
        current = open(path).read() if os.path.exists(path) else ""
        if current != text:
            stale.append(path)
            if "--check" in argv:
                sys.stderr.writelines(list(difflib.unified_diff(current.splitlines(True), text.splitlines(True),
                                                                path, "generated"))[:40])
            else:
                os.makedirs(RST_DIR, exist_ok=True)
                with open(path, "w") as handle:
                    handle.write(text)
    extra = [p for p in os.listdir(RST_DIR) if os.path.join(RST_DIR, p) not in wanted] \
        if os.path.isdir(RST_DIR) else []
    if "--check" in argv:
        if stale or extra:
            sys.stderr.write("stale docsite pages (regenerate with: make docs): %s%s\n" % (
                ", ".join(os.path.relpath(p, ROOT) for p in stale),
                "; pages without a guide: %s" % ", ".join(extra) if extra else ""))
            return 1
        return 0
    for name in extra:
        os.remove(os.path.join(RST_DIR, name))
    print("docsite: %d page(s) rewritten of %d" % (len(stale), len(wanted)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
