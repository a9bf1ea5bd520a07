#!/usr/bin/env python3
"""Deployment history, rollback and promotion by metric, end to end: `reco endpoints
deploy --promote-if / rollback / history`, the HTTP routes (PUT /endpoints/{name} with
promote_if, POST /endpoints/{name}/rollback, GET /endpoints/{name}/history, /deploy with
options), a rollback under continuous HTTP load with zero failed requests, and a history that is
complete after a server restart. Models are trained on a small generated data set with
cross-validation, so they report CV metrics."""
import json
import os
import shutil
import sys
import tempfile
import time

import recotest
from test_serve import TOKEN, ContinuousLoad, Serve, ServeTestCase, run_reco

_SHARED = {}


def cv_home():
    """ratings v1..v3 cross-validated (3 folds) with different hyperparameters, v4 without CV."""
    if "home" not in _SHARED:
        home = tempfile.mkdtemp(prefix="reco-history-e2e-")
        data = os.path.join(home, "generated")
        run_reco(home, "generate", "movielens", data, "--users", "120", "--items", "1400", "--ratings", "6000",
                 "--seed", "5")
        run_reco(home, "load", "movielens", data)
        run_reco(home, "train", "--input", "ratings", "-k", "3", "--set", "n_factors=10")
        run_reco(home, "train", "--input", "ratings", "-k", "3", "--set", "n_factors=2", "--set", "n_epochs=3")
        run_reco(home, "train", "--input", "ratings", "-k", "3", "-a", "baseline")
        run_reco(home, "train", "--input", "ratings", "-k", "0", "--set", "n_factors=4")
        _SHARED["home"] = home
    return _SHARED["home"]


def tearDownModule():
    if "home" in _SHARED:
        shutil.rmtree(_SHARED["home"], True)


def cv_rmse(home):
    """{version: CV RMSE} of the model `ratings`, from the registry."""
    server = Serve(home)
    try:
        versions = server.request("GET", "/models/ratings").json()["versions"]
    finally:
        server.close()
    return {v["version"]: v["cv_rmse"] for v in versions}


class CliTest(ServeTestCase):
    def reco_json(self, home, *args):
        return json.loads(run_reco(home, *args, "--json").stdout)

    def test_promotion_rollback_and_history_from_the_command_line(self):
        home = self.fresh_home()
        shutil.copytree(cv_home(), home, dirs_exist_ok=True)
        rmse = cv_rmse(home)
        worse, better = sorted([1, 2], key=lambda v: -rmse[v])
        self.assertGreater(rmse[worse], rmse[better])

        d = self.reco_json(home, "endpoints", "deploy", "ep", "models:/ratings/%d" % worse)
        self.assertEqual(d["status"], "Created")
        self.assertEqual(d["cause"], "cli")
        # Better by more than the margin: promoted.
        d = self.reco_json(home, "endpoints", "deploy", "ep", "models:/ratings/%d" % better, "--promote-if", "rmse",
                           "--margin", "0.0001")
        self.assertTrue(d["promoted"], d)
        self.assertEqual(d["version"], better)
        self.assertAlmostEqual(d["promotion"]["improvement"], rmse[worse] - rmse[better], places=9)
        self.assertTrue(d["promotion"]["same_data"])
        # Worse: refused, exit 0, the endpoint stays, the reason names both values.
        p = run_reco(home, "endpoints", "deploy", "ep", "models:/ratings/%d" % worse, "--promote-if", "rmse")
        self.assertIn("endpoint ep unchanged: promotion refused on rmse", p.stdout)
        self.assertIn("does not beat the margin 0", p.stdout)
        self.assertEqual(self.reco_json(home, "endpoints", "show", "ep")["version"], better)
        # Better, but not by the margin asked.
        margin = (rmse[worse] - rmse[better]) * 2
        d = self.reco_json(home, "endpoints", "deploy", "ep", "models:/ratings/%d" % better, "--promote-if", "rmse",
                           "--margin", repr(margin))
        self.assertEqual(d["status"], "PromotionRefused")

        # A metric the model does not report, an unknown one, a margin without a metric.
        p = run_reco(home, "endpoints", "deploy", "ep", "models:/ratings/4", "--promote-if", "rmse", check=False)
        self.assertEqual(p.returncode, 65, p.stderr)
        self.assertIn("candidate models:/ratings/4 reports no cross-validated rmse", p.stderr)
        p = run_reco(home, "endpoints", "deploy", "ep", "models:/ratings/1", "--promote-if", "ndcg", check=False)
        self.assertEqual(p.returncode, 64, p.stderr)
        self.assertIn("unknown metric 'ndcg': models report rmse, mae", p.stderr)
        p = run_reco(home, "endpoints", "deploy", "ep", "models:/ratings/1", "--margin", "0.1", check=False)
        self.assertEqual(p.returncode, 64, p.stderr)
        self.assertIn("need --promote-if", p.stderr)

        # Rollback: to the previous deployment, then there is none; a named version; errors.
        d = self.reco_json(home, "endpoints", "rollback", "ep")
        self.assertEqual((d["event"], d["version"], d["previous"]["version"]), ("rollback", worse, better))
        p = run_reco(home, "endpoints", "rollback", "ep", check=False)
        self.assertEqual(p.returncode, 65, p.stderr)
        self.assertIn("endpoint ep has no previous version to roll back to", p.stderr)
        self.assertIn("rolled back endpoint ep", run_reco(home, "endpoints", "rollback", "ep", "--to", "3").stdout)
        p = run_reco(home, "endpoints", "rollback", "ep", "--to", "99", check=False)
        self.assertEqual(p.returncode, 66, p.stderr)
        self.assertIn("version 99 does not exist", p.stderr)
        p = run_reco(home, "endpoints", "rollback", "nope", check=False)
        self.assertEqual(p.returncode, 66, p.stderr)
        self.assertIn("no endpoint named 'nope'", p.stderr)

        h = self.reco_json(home, "endpoints", "history", "ep")
        events = [(e["event"], e["cause"], e["generation"]) for e in h["events"]]
        # Failed attempts that never reached the endpoint (bad options, a model without CV) are
        # not events; refusals are.
        self.assertEqual(events, [("deploy", "cli", 1), ("deploy", "cli", 2), ("promotion_refused", "cli", 2),
                                  ("promotion_refused", "cli", 2), ("rollback", "cli", 3), ("rollback", "cli", 4)])
        self.assertEqual([e["seq"] for e in h["events"]], list(range(1, 7)))
        self.assertAlmostEqual(h["events"][1]["old"]["cv_rmse"], rmse[worse])
        self.assertAlmostEqual(h["events"][1]["new"]["cv_rmse"], rmse[better])
        self.assertIn("cv_mae", h["events"][1]["new"])
        table = run_reco(home, "endpoints", "history", "ep").stdout
        self.assertIn("promotion_refused", table)
        self.assertIn("ratings/%d" % better, table)
        p = run_reco(home, "endpoints", "history", "nope", check=False)
        self.assertEqual(p.returncode, 66, p.stderr)


class HttpTest(ServeTestCase):
    def test_routes_deploy_rollback_and_history_with_a_token(self):
        home = self.fresh_home()
        shutil.copytree(cv_home(), home, dirs_exist_ok=True)
        rmse = cv_rmse(home)
        worse, better = sorted([1, 2], key=lambda v: -rmse[v])
        server = self.serve(home, "--token", TOKEN)
        auth = {"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"}

        def call(method, path, body=None):
            return server.request(method, path, json.dumps(body) if body is not None else None, auth)

        for method, path in (("GET", "/endpoints/ep/history"), ("POST", "/endpoints/ep/rollback")):
            self.assert_error(server.request(method, path), 401, "bearer token")

        r = call("PUT", "/endpoints/ep", {"model_url": "models:/ratings/%d" % better})
        self.assertEqual(r.status, 201, r)
        r = call("PUT", "/endpoints/ep", {"model_url": "models:/ratings/%d" % worse,
                                          "promote_if": {"metric": "rmse", "margin": 0}})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["status"], "PromotionRefused")
        self.assertEqual(r.json()["version"], better)
        # The external function takes the same options as its third argument.
        r = server.post_json("/deploy", {"data": [[0, "ep", "models:/ratings/%d" % worse, {"promote_if": "rmse"}],
                                                  [1, "ep", "models:/ratings/%d" % worse, None],
                                                  [2, None, "models:/ratings/1"]]}, auth)
        self.assertEqual(r.status, 200, r)
        rows = r.json()["data"]
        self.assertEqual(rows[0][1]["status"], "PromotionRefused")
        self.assertEqual(rows[1][1]["status"], "Updated")
        self.assertIsNone(rows[2][1])
        r = server.post_json("/deploy", {"data": [[0, "ep", "models:/ratings/1", '{"promote_if": "auc"}']]}, auth)
        self.assert_error(r, 400, "row 0", "unknown metric 'auc'")
        r = call("PUT", "/endpoints/ep", {"model_url": "models:/ratings/4", "promote_if": "rmse"})
        self.assert_error(r, 400, "reports no cross-validated rmse")
        r = call("PUT", "/endpoints/ep", {"model_url": "models:/ratings/1", "promote_if": {"metric": "rmse",
                                                                                          "margin": -1}})
        self.assert_error(r, 400, "margin must be a number >= 0")

        # Rollback: empty body (previous), {"version": N}, and the errors.
        r = server.request("POST", "/endpoints/ep/rollback", None, {"Authorization": "Bearer " + TOKEN})
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["event"], r.json()["version"]), ("rollback", better))
        self.assertEqual(server.request("GET", "/endpoints/ep", None, auth).json()["serving"]["version"], better)
        self.assert_error(call("POST", "/endpoints/ep/rollback"), 409, "no previous version")
        self.assertEqual(call("POST", "/endpoints/ep/rollback", {"version": 3}).json()["version"], 3)
        self.assert_error(call("POST", "/endpoints/ep/rollback", {"version": 42}), 404, "version 42 does not exist")
        self.assert_error(call("POST", "/endpoints/ep/rollback", {"version": "x"}), 400, "positive integer")
        self.assert_error(call("POST", "/endpoints/ep/rollback", {"to": 1}), 400, "unknown field 'to'")
        self.assert_error(server.request("POST", "/endpoints/ep/rollback", "[1]", auth), 400, "JSON object")
        self.assert_error(call("POST", "/endpoints/nope/rollback"), 404, "no endpoint named 'nope'")
        # A damaged version to go back to is the request's problem (400), and is in the history.
        artifact = os.path.join(home, "models", "ratings", "v%d" % better, "model.reco")
        with open(artifact, "r+b") as f:
            f.seek(os.path.getsize(artifact) // 2)
            f.write(b"\x00\xff\x00\xff")
        self.assert_error(call("POST", "/endpoints/ep/rollback"), 400, "cannot roll back endpoint ep")
        self.assertEqual(call("GET", "/endpoints/ep").json()["serving"]["version"], 3)
        self.assert_error(call("GET", "/endpoints/nope/history"), 404, "no endpoint named 'nope'")

        h = call("GET", "/endpoints/ep/history").json()
        self.assertEqual(h["endpoint"], "ep")
        self.assertEqual([e["event"] for e in h["events"]],
                         ["deploy", "promotion_refused", "promotion_refused", "deploy", "rollback", "rollback",
                          "load_failed"])
        self.assertTrue(all(e["cause"] == "http" for e in h["events"]))
        self.assertIn("checksum", h["events"][-1]["reason"])
        # The routes are rows of the table: counted in metrics like the others.
        metrics = call("GET", "/metrics").text()
        self.assertIn('route="/endpoints/{name}/rollback"', metrics)
        self.assertIn('route="/endpoints/{name}/history"', metrics)


class RollbackUnderLoadTest(ServeTestCase):
    def test_rollback_under_continuous_load_fails_no_request_and_history_survives_restart(self):
        home = self.fresh_home()
        shutil.copytree(cv_home(), home, dirs_exist_ok=True)
        server = self.serve(home)
        self.deploy(server, "swap", "models:/ratings/1")
        v1 = self.predictions_csv(server, "/endpoints/swap/invocations")
        self.deploy(server, "swap", "models:/ratings/2")
        v2 = self.predictions_csv(server, "/endpoints/swap/invocations")
        self.assertNotEqual(v1, v2)

        with ContinuousLoad(server, "/endpoints/swap/invocations", [v1, v2]) as load:
            # Roll back over HTTP (this server swaps at once), forward again by version, then back
            # from another process (the server notices within its refresh interval).
            time.sleep(0.3)
            r = server.request("POST", "/endpoints/swap/rollback")
            self.assertEqual((r.status, r.json()["version"]), (200, 1), r)
            time.sleep(0.3)
            r = server.post_json("/endpoints/swap/rollback", {"version": 2})
            self.assertEqual((r.status, r.json()["version"]), (200, 2), r)
            time.sleep(0.3)
            run_reco(home, "endpoints", "rollback", "swap")
            server.wait_until(lambda: server.request("GET", "/endpoints/swap").json()["serving"]["version"] == 1,
                              what="the rollback made by another process to be served")
            time.sleep(0.3)
        print("rollback under load: %d requests in %.1f s (%.0f/s), %d failed, %d on v1, %d on v2"
              % (load.ok + len(load.failures), load.elapsed, load.ok / load.elapsed, len(load.failures),
                 load.by_answer[0], load.by_answer[1]), file=sys.stderr)
        self.assertEqual(load.failures, [])
        self.assertGreater(load.ok, 20)
        self.assertGreater(load.by_answer[0], 0)
        self.assertGreater(load.by_answer[1], 0)
        self.assertEqual(self.predictions_csv(server, "/endpoints/swap/invocations"), v1)

        before = server.request("GET", "/endpoints/swap/history").json()["events"]
        self.assertEqual([(e["event"], e["cause"], e["new"]["version"]) for e in before],
                         [("deploy", "http", 1), ("deploy", "http", 2), ("rollback", "http", 1),
                          ("rollback", "http", 2), ("rollback", "cli", 1)])
        # A restarted server, and the command line, show the same complete history.
        self.assertEqual(server.stop(), 0)
        again = self.serve(home)
        self.assertEqual(again.request("GET", "/endpoints/swap/history").json()["events"], before)
        self.assertEqual(json.loads(run_reco(home, "endpoints", "history", "swap", "--json").stdout)["events"], before)
        # ...and rollbacks after the restart still know where they are: back at the first
        # deployment there is nothing before it; forward by version, then back again.
        self.assert_error(again.request("POST", "/endpoints/swap/rollback"), 409, "no previous version")
        r = again.post_json("/endpoints/swap/rollback", {"version": 2})
        self.assertEqual((r.status, r.json()["version"]), (200, 2), r)
        r = again.request("POST", "/endpoints/swap/rollback")
        self.assertEqual((r.status, r.json()["version"]), (200, 1), r)


if __name__ == "__main__":
    recotest.main()
