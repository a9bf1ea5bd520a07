#!/usr/bin/env python3
"""`make demo`'s script end to end on ml-latest-small (scripts/demo.sh with RECO_DEMO_HOME in a
temporary folder): the guide's pipeline, serving, and the last step, the guide's automation as a
task: retrain when the ratings changed, deploy only a better model, every run and every
promotion decision recorded."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import recotest

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "demo.sh")


class DemoTest(unittest.TestCase):
    def test_the_demo_runs_and_its_task_retrains_only_after_new_ratings(self):
        recotest.require_movielens()
        home = tempfile.mkdtemp(prefix="reco-demo-e2e-")
        self.addCleanup(shutil.rmtree, home, True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("RECO_")}
        env["RECO_DEMO_HOME"] = home
        p = subprocess.run(["bash", SCRIPT, recotest.RECO, recotest.MOVIELENS], capture_output=True, text=True,
                           env=env, timeout=900)
        self.assertEqual(p.returncode, 0, p.stdout[-3000:] + p.stderr[-3000:])
        self.assertIn("8. Keep it fresh", p.stdout)

        def reco_json(*args):
            out = subprocess.run([recotest.RECO, "--home", home, *args, "--json"], capture_output=True, text=True,
                                 check=True).stdout
            return json.loads(out)

        runs = reco_json("tasks", "history", "retrain")
        self.assertEqual([r["state"] for r in runs], ["Succeeded", "Skipped", "Succeeded"], runs)
        self.assertIn("has not changed since the last successful run", runs[1]["error"])
        self.assertTrue(all(len(r["jobs"]) == 1 for r in (runs[0], runs[2])), runs)
        events = reco_json("endpoints", "history", "movielens-model-v1")["events"]
        self.assertEqual([(e["event"], e["cause"]) for e in events[:2]],
                         [("deploy", "sql"), ("promotion_refused", "task:retrain")])
        # Same data, same seed: the retrained version ties, and a tie does not beat the margin.
        self.assertEqual(events[1]["promotion"]["improvement"], 0)
        self.assertEqual(events[2]["cause"], "task:retrain")
        self.assertIn(events[2]["event"], ("deploy", "promotion_refused"))
        expected = "promoted on rmse" if events[2]["event"] == "deploy" else "promotion refused on rmse"
        self.assertTrue(events[2]["reason"].startswith(expected), events[2])


if __name__ == "__main__":
    recotest.main()
