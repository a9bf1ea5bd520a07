#!/usr/bin/env python3
"""End to end: `reco sql` as a user runs it — flags, exit statuses, stdin, and the interactive
prompt in a real pseudo-terminal (prompts, multi-line statements, Ctrl-C, history file).
Needs RECO_BIN (set by ctest)."""

import os
import pty
import select
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import recotest  # noqa: E402


class Terminal:
    """reco sql running on a pseudo-terminal; send() types, expect() waits for output."""

    def __init__(self, home, *args):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # child
            os.environ["RECO_HOME"] = home
            os.environ.pop("RECO_DB", None)
            os.environ["TERM"] = "dumb"  # no colour or cursor tricks in the transcript
            os.execv(recotest.RECO, [recotest.RECO, "--quiet", "sql"] + list(args))
        self.output = b""

    def read_available(self, timeout):
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return False
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: the child has exited and closed the terminal
            return False
        self.output += data
        return bool(data)

    def expect(self, text, timeout=20):
        """Waits until text appears after what was already consumed; returns what came before."""
        needle = text.encode()
        deadline = time.time() + timeout
        while needle not in self.output:
            if time.time() > deadline:
                raise AssertionError("timed out waiting for %r; the terminal shows:\n%s"
                                     % (text, self.output.decode(errors="replace")))
            self.read_available(0.1)
        before, _, after = self.output.partition(needle)
        self.output = after
        return before.decode(errors="replace")

    def send(self, text):
        os.write(self.fd, text.encode())

    def wait(self, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                while self.read_available(0.05):
                    pass
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
            self.read_available(0.05)
        os.kill(self.pid, signal.SIGKILL)
        raise AssertionError("reco sql did not exit; the terminal shows:\n%s"
                             % self.output.decode(errors="replace"))


class InteractiveTest(recotest.RecoTestCase):
    def test_prompt_continuation_results_and_history(self):
        term = Terminal(self.home)
        term.expect("reco> ")
        term.send("create table t(a integer, b text);\n")
        term.expect("reco> ")
        term.send("insert into t values (1, 'one'),\n")
        term.expect("  ...> ")  # the statement is not complete yet
        term.send("(2, 'two');\n")
        term.expect("reco> ")
        term.send("select b, a\n")
        term.expect("  ...> ")
        term.send("from t order by a;\n")
        shown = term.expect("reco> ")
        self.assertIn("  b  | a", shown)
        self.assertIn(" one | 1", shown)
        self.assertIn("(2 rows)", shown)
        term.send("select * from missing;\n")
        self.assertIn("Error: no such table: missing", term.expect("reco> "))
        term.send("\x04")  # Ctrl-D
        # A mistake typed at the prompt is not a failure of the session.
        self.assertEqual(term.wait(), 0)

        with open(os.path.join(self.home, ".sql_history"), encoding="utf-8") as f:
            history = [line for line in f.read().splitlines() if not line.startswith("#")]
        self.assertEqual(history, ["create table t(a integer, b text);",
                                   "insert into t values (1, 'one'),", "(2, 'two');",
                                   "select b, a", "from t order by a;",
                                   "select * from missing;"])

        # The next session can recall the multi-line statement as one entry (up arrow twice).
        term = Terminal(self.home)
        term.expect("reco> ")
        term.send("\x1b[A\x1b[A\n")
        # Recalling redraws the prompt, so wait for the result itself.
        shown = term.expect("(2 rows)")
        self.assertIn(" two | 2", shown)
        term.expect("reco> ")
        term.send(".quit\n")
        self.assertEqual(term.wait(), 0)

    def test_ctrl_c_cancels_the_line_and_interrupts_a_query(self):
        term = Terminal(self.home)
        term.expect("reco> ")
        term.send("select 'never\n")
        term.expect("  ...> ")
        os.kill(term.pid, signal.SIGINT)
        term.expect("reco> ")  # back to a fresh statement
        term.send("with recursive c(x) as (select 1 union all select x + 1 from c) "
                  "select count(*) from c;\n")
        time.sleep(0.5)
        os.kill(term.pid, signal.SIGINT)
        self.assertIn("Error: interrupted", term.expect("reco> "))
        term.send("select 6 * 7 as answer;\n")
        self.assertIn("42", term.expect("reco> "))
        term.send(".exit 3\n")
        self.assertEqual(term.wait(), 3)


class CommandLineTest(recotest.RecoTestCase):
    def test_commands_then_file_in_order(self):
        script = os.path.join(self.home, "s.sql")
        with open(script, "w") as f:
            f.write("insert into t values (2);\nselect sum(a) as total from t;\n")
        p = self.reco("sql", "--mode", "csv", "-c", "create table t(a)",
                      "-c", "insert into t values (40)", script)
        self.assertEqual(p.stdout, "total\n42\n")
        self.assertEqual(p.stderr, "")

    def test_command_error_stops_with_status_1(self):
        p = self.reco("sql", "-c", "select 1 as a; select * from nope; select 2 as b",
                      "-c", "select 3 as c", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stderr, "Error: -c #1, statement 2: no such table: nope (in the warehouse %s)\n"
                         % os.path.join(os.path.realpath(self.home), "warehouse.db"))
        self.assertIn(" a", p.stdout)
        self.assertNotIn(" b", p.stdout)
        self.assertNotIn(" c", p.stdout)

    def test_stdin_script_continues_after_errors(self):
        p = self.reco("sql", "--headers", "off", "--mode", "csv", check=False,
                      input="select 1;\nselect nope;\nselect 2;\n")
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stdout, "1\n2\n")
        self.assertEqual(p.stderr, "Error: near line 2: no such column: nope\n")
        p = self.reco("sql", "-", "--bail", check=False, input="select 1;\nselect nope;\nselect 2;\n")
        self.assertEqual(p.returncode, 1)
        self.assertNotIn("2", p.stdout)

    def test_json_output_parses(self):
        rows = self.query("select 1 as id, 'Amélie' as title, 3.5 as r, null as n, 2.0 as w")
        self.assertEqual(rows, [{"id": 1, "title": "Amélie", "r": 3.5, "n": None, "w": 2.0}])

    def test_usage_errors(self):
        p = self.reco("sql", "--mode", "box", "-c", "select 1", check=False)
        self.assertEqual(p.returncode, 64)
        p = self.reco("sql", "no-such-script.sql", check=False)
        self.assertEqual(p.returncode, 66)
        self.assertIn("cannot open SQL script 'no-such-script.sql'", p.stderr)

    def test_db_flag_selects_the_database(self):
        db = os.path.join(self.home, "other.db")
        self.reco("--db", db, "sql", "-c", "create table only_here(x)")
        self.assertTrue(os.path.exists(db))
        p = self.reco("--db", db, "sql", "-c", ".tables")
        self.assertEqual(p.stdout, "only_here\n")
        p = self.reco("sql", "-c", ".tables")
        self.assertEqual(p.stdout, "")


if __name__ == "__main__":
    if not recotest.RECO:
        print("SKIPPED: RECO_BIN is not set", file=sys.stderr)
        sys.exit(recotest.SKIP)
    recotest.main()
