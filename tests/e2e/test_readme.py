#!/usr/bin/env python3
"""Every example in README.md runs as written: each ```sh and ```sql block, in README order, in
one temporary folder as a user following the README would (`reco` on PATH, RECO_HOME=$PWD/myhome
as the README exports it, `./build/reco` being the extension), sh blocks with bash -e, sql
blocks with `reco sql --bail`. A block must end with status 0 and print no error.

Marker convention: a block that cannot run in a test is preceded, on the line right above its
fence, by `<!-- readme-test: skip: REASON -->` (REASON is required). Keep them few: at most
MAX_SKIPPED, each for a real reason (the block builds reco itself, starts a server in the
foreground, opens an interactive prompt, holds placeholders, or needs a PostgreSQL server).
Fences without a language (e.g. the home's folder layout) are not examples and are not run.

The one stand-in: `reco fetch movielens ml-latest-small` finds the data set already in the
home (a link to the local copy), as after an earlier download, so the test needs no network.
"""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import recotest

README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "README.md")
MAX_SKIPPED = 5
FENCE = re.compile(r"^```(\S*)\s*$")
SKIP = re.compile(r"^<!--\s*readme-test:\s*skip\s*:\s*(.*?)\s*-->\s*$")
MARKER = re.compile(r"^\s*<!--\s*readme-test")


class Block:
    def __init__(self, language, line, body, skip_reason):
        self.language, self.line, self.body, self.skip_reason = language, line, body, skip_reason


def read_blocks(path):
    """The fenced blocks of a Markdown file, with the skip marker right above each, if any."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    blocks, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            if MARKER.search(lines[i]) and not SKIP.match(lines[i]):
                raise ValueError("README.md:%d: malformed marker (expected '<!-- readme-test: skip: "
                                 "REASON -->'): %s" % (i + 1, lines[i]))
            i += 1
            continue
        start = i
        skip = SKIP.match(lines[i - 1]) if i > 0 else None
        body = []
        i += 1
        while i < len(lines) and not FENCE.match(lines[i]):
            body.append(lines[i])
            i += 1
        if i >= len(lines):
            raise ValueError("README.md:%d: code block never closed" % (start + 1))
        blocks.append(Block(m.group(1), start + 1, "\n".join(body) + "\n", skip.group(1) if skip else None))
        i += 1
    return blocks


class ReadmeParsingTest(unittest.TestCase):
    """The extraction itself, on small documents (so a broken parser cannot pass silently)."""

    def parse(self, text):
        with tempfile.NamedTemporaryFile("w", suffix=".md", delete=False) as f:
            f.write(text)
        self.addCleanup(os.unlink, f.name)
        return read_blocks(f.name)

    def test_blocks_languages_and_markers(self):
        blocks = self.parse("text\n```sh\nreco init\n```\n<!-- readme-test: skip: a server -->\n```sql\n"
                            "select 1;\n```\n```\nlayout\n```\n")
        self.assertEqual([(b.language, b.line, b.body, b.skip_reason) for b in blocks],
                         [("sh", 2, "reco init\n", None), ("sql", 6, "select 1;\n", "a server"),
                          ("", 9, "layout\n", None)])

    def test_a_skip_needs_a_reason_and_a_block_must_close(self):
        with self.assertRaises(ValueError):
            self.parse("<!-- readme-test: skip -->\n```sh\nx\n```\n")
        with self.assertRaises(ValueError):
            self.parse("```sh\nx\n")


class ReadmeExamplesTest(unittest.TestCase):
    def setUp(self):
        if not recotest.RECO or not os.path.exists(recotest.RECO):
            self.fail("RECO_BIN does not point to the reco binary: %r" % recotest.RECO)
        if not recotest.EXTENSION or not os.path.exists(recotest.EXTENSION):
            self.fail("RECO_EXTENSION does not point to the extension: %r" % recotest.EXTENSION)
        self.dir = tempfile.mkdtemp(prefix="reco-readme-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        os.makedirs(os.path.join(self.dir, "bin"))
        os.symlink(os.path.abspath(recotest.RECO), os.path.join(self.dir, "bin", "reco"))
        os.makedirs(os.path.join(self.dir, "build"))
        os.symlink(os.path.abspath(recotest.EXTENSION), os.path.join(self.dir, "build", "reco.so"))
        # The stand-in for the download (see the module's docstring).
        datasets = os.path.join(self.dir, "myhome", "datasets")
        os.makedirs(datasets)
        os.symlink(os.path.abspath(recotest.MOVIELENS), os.path.join(datasets, "ml-latest-small"))
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("RECO_")}
        self.env["PATH"] = os.path.join(self.dir, "bin") + os.pathsep + self.env.get("PATH", "")
        self.env["RECO_HOME"] = os.path.join(self.dir, "myhome")  # `export RECO_HOME=$PWD/myhome`

    def run_block(self, number, block):
        if block.language == "sh":
            command = ["bash", "-e", "-o", "pipefail", "-c", block.body]
        else:
            script = os.path.join(self.dir, "block%d.sql" % number)
            with open(script, "w", encoding="utf-8") as f:
                f.write(block.body)
            command = ["reco", "sql", "--bail", script]
        p = subprocess.run(command, cwd=self.dir, env=self.env, capture_output=True, text=True,
                           timeout=600, stdin=subprocess.DEVNULL)
        where = "README.md:%d (```%s block)" % (block.line, block.language)
        self.assertEqual(p.returncode, 0, "%s failed with status %d:\n%s\nstdout:\n%s\nstderr:\n%s"
                         % (where, p.returncode, block.body, p.stdout[-3000:], p.stderr[-3000:]))
        for line in p.stderr.splitlines():
            self.assertFalse(line.startswith("Error:") or "error:" in line,
                             "%s printed an error:\n%s" % (where, p.stderr[-3000:]))
        return p

    def test_every_example_runs_as_written(self):
        recotest.require_movielens()
        blocks = [b for b in read_blocks(README) if b.language in ("sh", "sql")]
        skipped = [b for b in blocks if b.skip_reason is not None]
        for b in skipped:
            self.assertTrue(b.skip_reason, "README.md:%d: a skipped block needs a reason" % b.line)
        self.assertLessEqual(len(skipped), MAX_SKIPPED,
                             "more README blocks are skipped than allowed (%d): %s" %
                             (MAX_SKIPPED, ["README.md:%d" % b.line for b in skipped]))
        ran = 0
        for number, block in enumerate(blocks):
            if block.skip_reason is None:
                with self.subTest(line=block.line):
                    self.run_block(number, block)
                ran += 1
        self.assertGreaterEqual(ran, 5, "the README should have runnable examples")
        # What the examples made, checked once they have all run.
        home = os.path.join(self.dir, "myhome")
        self.assertTrue(os.path.isdir(os.path.join(home, "models", "ratings_train_data", "v1")))
        self.assertTrue(os.path.isfile(os.path.join(home, "endpoints", "movielens-model-v1.json")))


if __name__ == "__main__":
    recotest.main()
